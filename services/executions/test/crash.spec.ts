import { gql, hostPortOf, startPlatform, waitFor, type TestPlatform } from '@pipewright/testing';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import WebSocket from 'ws';
import { HeldHooks } from './held-hooks';

const LOOPS = 10;
const RUNS_PER_LOOP = 2;
const LEASE_SECONDS = 2;

interface Update {
  status: string;
  sequence: number;
}

describe('crash safety: SIGKILL the executions service while a webhook call is held open', () => {
  let platform: TestPlatform;
  let token: string;
  const hooks = new HeldHooks();

  beforeAll(async () => {
    await hooks.start();
    // A short lease, so a dead worker's message is taken over within seconds.
    platform = await startPlatform('crash', {}, { executions: { ENGINE_LEASE_SECONDS: String(LEASE_SECONDS), ENGINE_SWEEP_MS: '200' } }, { outbound: [hostPortOf(hooks.url)] });
    token = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
  });
  afterAll(async () => {
    await platform?.stop();
    await hooks.stop();
  });

  const ok = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const res = await gql<T>(platform.gatewayUrl, query, { token, variables });
    if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
    return res.data!;
  };

  /** A gateway runUpdated subscriber that can be cut and resumed with afterSequence = the last state it saw. */
  function subscriber(runId: string) {
    const seen: Update[] = [];
    let client: WsClient | null = null;
    let closed = false;
    let retry: NodeJS.Timeout | undefined;
    const connect = () => {
      const mine = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
      client = mine;
      // While the service is down the gateway cannot read a state: it says so and ends the
      // subscription; like the console, the subscriber then subscribes again with afterSequence.
      const again = () => {
        if (closed || client !== mine || seen.at(-1)?.status === 'SUCCEEDED') return;
        retry = setTimeout(() => void Promise.resolve(mine.dispose()).then(() => client === mine && connect()), 250);
      };
      mine.subscribe<{ runUpdated: Update }>(
        { query: `subscription($id: ID!, $after: Int) { runUpdated(runId: $id, afterSequence: $after) { status sequence } }`, variables: { id: runId, after: seen.at(-1)?.sequence ?? 0 } },
        // Only the current subscription counts: one being disposed may still be delivering.
        { next: (v) => void (client === mine && v.data?.runUpdated && seen.push(v.data.runUpdated)), error: again, complete: again },
      );
    };
    connect();
    return {
      seen,
      /** After a restart: resubscribe at once rather than at the next retry. */
      reconnect: async () => {
        clearTimeout(retry);
        const old = client;
        client = null;
        await old?.dispose();
        connect();
      },
      close: async () => {
        closed = true;
        clearTimeout(retry);
        await client?.dispose();
      },
    };
  }

  it(`finishes every run across ${LOOPS} kills; only the call cut by a kill is repeated, once, with its key`, async () => {
    const tag = randomBytes(3).toString('hex');
    const stages = [
      { refId: 'before', name: 'before', type: 'WEBHOOK', config: { url: `${hooks.url}/ok/${tag}/before` } },
      { refId: 'held', name: 'held', type: 'WEBHOOK', dependsOn: ['before'], config: { url: `${hooks.url}/hold/${tag}` } },
      { refId: 'after', name: 'after', type: 'WEBHOOK', dependsOn: ['held'], config: { url: `${hooks.url}/ok/${tag}/after` } },
    ];
    const pipelineId = (await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { name: `crash-${tag}`, stages } })).createPipeline.id;
    const runs: { id: string; sub: ReturnType<typeof subscriber> }[] = [];

    try {
      for (let loop = 0; loop < LOOPS; loop++) {
        const batch: typeof runs = [];
        for (let i = 0; i < RUNS_PER_LOOP; i++) {
          const id = (await ok<{ runPipeline: { id: string } }>(`mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }`, { p: pipelineId })).runPipeline.id;
          batch.push({ id, sub: subscriber(id) });
        }
        runs.push(...batch);
        // Kill it while every run of this loop has its webhook call open.
        await hooks.heldCalls((loop + 1) * RUNS_PER_LOOP);
        platform.processes.executions.child.kill('SIGKILL');
        expect(await platform.processes.executions.exited).toBe('SIGKILL');
        hooks.release(); // answers nobody: the caller is gone
        await platform.restart('executions');
        await Promise.all(batch.map((r) => r.sub.reconnect()));
        await waitFor(`loop ${loop}: every run to succeed`, () => batch.every((r) => r.sub.seen.some((u) => u.status === 'SUCCEEDED')), 60_000);
      }

      for (const { id, sub } of runs) {
        // Every state once, in order, across the reconnects: sequences 1..n without a gap or a repeat.
        expect({ id, seen: sub.seen.map((u) => `${u.sequence} ${u.status}`) }).toEqual({ id, seen: sub.seen.map((u, i) => `${i + 1} ${u.status}`) });
        expect(sub.seen[0].status).toBe('QUEUED');
        expect(sub.seen.at(-1)!.status).toBe('SUCCEEDED');
        // The call cut by the kill was repeated at most once, with the same key; no other call was repeated.
        expect(hooks.count(`/ok/${tag}/before`, `${id}/before/1`)).toBe(1);
        expect([1, 2]).toContain(hooks.count(`/hold/${tag}`, `${id}/held/1`));
        expect(hooks.count(`/ok/${tag}/after`, `${id}/after/1`)).toBe(1);
      }
      // No call with any other key: nothing was started as a second attempt.
      expect([...hooks.calls.keys()].filter((k) => !runs.some((r) => k.endsWith(` ${r.id}/before/1`) || k.endsWith(` ${r.id}/held/1`) || k.endsWith(` ${r.id}/after/1`)))).toEqual([]);

      const db = new Client({ connectionString: platform.serviceEnvs.executions.DATABASE_URL });
      await db.connect();
      try {
        const { rows } = await db.query(`SELECT status, attempt, count(*)::int AS n FROM stage_runs GROUP BY status, attempt`);
        expect(rows).toEqual([{ status: 'SUCCEEDED', attempt: 1, n: LOOPS * RUNS_PER_LOOP * stages.length }]);
        const { rows: left } = await db.query(`SELECT count(*)::int AS n FROM engine_messages`);
        expect(left[0].n).toBe(0);
      } finally {
        await db.end();
      }
    } finally {
      await Promise.all(runs.map((r) => r.sub.close()));
    }
    // Ten kills and boots of the service: on two loaded cores that can take longer than jest's default.
  }, 400_000);
});
