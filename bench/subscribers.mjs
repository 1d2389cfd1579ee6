// The graphql-ws subscribers of bench.mjs's event -> subscriber measure, in a process of their own
// (forked with an IPC channel) so that holding 1,000 clients does not take CPU from the gateway's
// side of the measure, and so that their own CPU time can be reported.
//   parent -> { type: 'open', url, token, runId, count }    child -> { type: 'ready', firstSequences }
//   parent -> { type: 'count' }    child -> { type: 'count', deliveries }   (how many so far)
//   parent -> { type: 'close' }    child -> { type: 'closed', deliveries: [[sequence, atMs]...], cpuSeconds }
// Times are CLOCK_MONOTONIC (process.hrtime), which every process on the machine shares, so the
// parent can subtract its own timestamps from them.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
let clients = [];
let deliveries = [];
let cpuAtOpen = process.cpuUsage();

const send = (m) => process.send(m);

process.on('message', async (m) => {
  if (m.type === 'open') {
    cpuAtOpen = process.cpuUsage();
    deliveries = [];
    const firstSequences = [];
    let ready = 0;
    let failed = false;
    clients = Array.from({ length: m.count }, () => {
      const client = createClient({ url: m.url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${m.token}` }, retryAttempts: 0, lazy: false });
      let first = true;
      client.subscribe(
        { query: 'subscription($id: ID!) { runUpdated(runId: $id) { sequence status } }', variables: { id: m.runId } },
        {
          next: (v) => {
            const at = nowMs();
            const sequence = v.data?.runUpdated?.sequence;
            if (typeof sequence !== 'number') {
              if (!failed) send({ type: 'error', message: `a subscriber got no sequence: ${JSON.stringify(v)}` });
              failed = true;
              return;
            }
            if (first) {
              // The run's current state (what a subscriber gets first), not a change: not measured.
              first = false;
              firstSequences.push(sequence);
              if (++ready === m.count) send({ type: 'ready', firstSequences });
              return;
            }
            deliveries.push([sequence, at]);
          },
          error: (err) => {
            if (!failed && first) send({ type: 'error', message: `a subscriber failed before its first state: ${err?.message ?? JSON.stringify(err)}` });
            failed ||= first;
          },
          complete: () => undefined,
        },
      );
      return client;
    });
  } else if (m.type === 'count') {
    send({ type: 'count', deliveries: deliveries.length });
  } else if (m.type === 'close') {
    await Promise.all(clients.map((c) => c.dispose()));
    clients = [];
    const cpu = process.cpuUsage(cpuAtOpen);
    send({ type: 'closed', deliveries, cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100 });
  } else if (m.type === 'exit') {
    process.exit(0);
  }
});
send({ type: 'started' });
