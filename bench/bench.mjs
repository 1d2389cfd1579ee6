#!/usr/bin/env node
// `npm run bench`: boots the platform on the test environment (as the tests do) and measures
//   1. stage-transition latency: a stage's webhook answers -> the next stage's RUNNING event
//   2. run event -> subscriber latency with 1, 100 and 1,000 graphql-ws subscribers on one run
//   3. sustained stage transitions/s and runs completed/s with 200 runs in flight
//   4. gateway overhead: one query through the gateway vs straight to the subgraph (p50 ratio)
//   5. peak resident memory of each process during (3)
// and prints a table, writing the same figures as JSON to bench/results/<timestamp>.json.
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { startPlatform, gql, connectTestNats, readTestEnvFile } = require('../libs/testing/dist/index.js');
const { signIdentity } = require('../libs/auth/dist/index.js');

for (const [k, v] of Object.entries(readTestEnvFile())) process.env[k] ??= v;

const say = (m) => console.error(`[bench] ${m}`);
const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const round = (x) => (x === null ? null : Math.round(x * 100) / 100);

// A webhook receiver that remembers when it answered each stage.
const answeredAt = new Map();
const hooks = createServer((req, res) => {
  const key = `${req.headers['x-pipewright-run']}/${req.headers['x-pipewright-stage']}`;
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}', () => answeredAt.set(key, performance.timeOrigin + performance.now()));
  });
});
await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${hooks.address().port}/hook`;

say('starting the platform');
// BENCH_EXECUTIONS_NODE_OPTIONS (e.g. "--require ./profiler.js") is given to the executions service (profiling).
const profiling = process.env.BENCH_EXECUTIONS_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_EXECUTIONS_NODE_OPTIONS } : {};
const platform = await startPlatform('bench', { LOG_LEVEL: 'error' }, { executions: { ENGINE_WORKERS: '8', ENGINE_SWEEP_MS: '200', ...profiling } });
const token = await platform.token({ sub: 'bench', roles: ['ADMIN', 'DEVELOPER'] });
const ok = async (query, variables) => {
  const res = await gql(platform.gatewayUrl, query, { token, variables });
  if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
  return res.data;
};
const chain = (n, prefix = 's') =>
  Array.from({ length: n }, (_, i) => ({ refId: `${prefix}${i}`, name: `${prefix}${i}`, type: 'WEBHOOK', dependsOn: i ? [`${prefix}${i - 1}`] : [], config: { url: hookUrl, method: 'POST' } }));
const createPipeline = async (name, stages, extra = {}) => (await ok(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { name, stages, ...extra } })).createPipeline.id;
const runPipeline = async (id) => (await ok(`mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }`, { p: id })).runPipeline.id;

// Events straight from NATS (core subscription on the JetStream subjects).
const nc = await connectTestNats('bench');
const stageRunningAt = new Map();
/** When each run event (runId/sequence) reached NATS: where "event -> subscriber" starts. */
const eventAt = new Map();
const runDone = new Map();
let transitions = 0;
const runWaiters = new Map();
nc.subscribe(`${platform.prefix}.evt.executions.stage.status-changed.v1`, {
  callback: (_e, m) => {
    const e = m.json();
    eventAt.set(`${e.runId}/${e.sequence}`, performance.timeOrigin + performance.now());
    if (e.status === 'RUNNING' && e.attempt === 1) stageRunningAt.set(`${e.runId}/${e.refId}`, performance.timeOrigin + performance.now());
    if (e.status === 'SUCCEEDED') transitions++;
  },
});
nc.subscribe(`${platform.prefix}.evt.executions.run.status-changed.v1`, {
  callback: (_e, m) => {
    const e = m.json();
    eventAt.set(`${e.runId}/${e.sequence}`, performance.timeOrigin + performance.now());
    if (['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED'].includes(e.status)) {
      runDone.set(e.runId, e.status);
      runWaiters.get(e.runId)?.();
    }
  },
});
const finished = (runId) => new Promise((r) => (runDone.has(runId) ? r() : runWaiters.set(runId, r)));
const results = { date: new Date().toISOString(), machine: { cpus: (await import('node:os')).cpus().length }, targets: {} };

// 1. Stage-transition latency.
say('1. stage-transition latency (runs of 10 chained stages)');
const p1 = await createPipeline('bench-chain', chain(10));
const lat1 = [];
for (let i = 0; i < 20; i++) {
  const runId = await runPipeline(p1);
  await finished(runId);
  for (let s = 0; s < 9; s++) {
    const a = answeredAt.get(`${runId}/s${s}`);
    const b = stageRunningAt.get(`${runId}/s${s + 1}`);
    if (a && b) lat1.push(b - a);
  }
}
results.stageTransition = { samples: lat1.length, p50Ms: round(pct(lat1, 50)), p99Ms: round(pct(lat1, 99)), targetP99Ms: 20 };

// 2. Run event -> subscriber latency: from the event on NATS to the subscriber's delivery of that state.
say('2. event -> subscriber latency (1, 100, 1000 subscribers)');
results.subscribers = [];
const pJudge = await createPipeline('bench-judge', Array.from({ length: 10 }, (_, i) => ({ refId: `j${i}`, name: `j${i}`, type: 'JUDGEMENT', dependsOn: i ? [`j${i - 1}`] : [], config: {} })));
for (const count of [1, 100, 1000]) {
  const runId = await runPipeline(pJudge);
  const clients = [];
  const lats = [];
  let ready = 0;
  let resolveReady;
  const allReady = new Promise((r) => (resolveReady = r));
  for (let c = 0; c < count; c++) {
    const client = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
    clients.push(client);
    let first = true;
    client.subscribe(
      { query: `subscription($id: ID!) { runUpdated(runId: $id) { sequence status } }`, variables: { id: runId } },
      {
        next: (v) => {
          if (first) {
            first = false;
            if (++ready === count) resolveReady();
            return;
          }
          const at = eventAt.get(`${runId}/${v.data.runUpdated.sequence}`);
          if (at) lats.push(performance.timeOrigin + performance.now() - at);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }
  await allReady;
  // Each judge commits a few events; latency from an event reaching NATS to each subscriber's delivery of that state.
  for (let j = 0; j < 9; j++) {
    await new Promise((r) => setTimeout(r, 50)); // let the stage reach WAITING (bench pacing, not a test)
    await ok(`mutation($r: ID!, $ref: ID!) { judge(runId: $r, refId: $ref, decision: CONTINUE) { status } }`, { r: runId, ref: `j${j}` }).catch(() => null);
  }
  await new Promise((r) => setTimeout(r, 1000));
  await Promise.all(clients.map((c) => c.dispose()));
  results.subscribers.push({ subscribers: count, deliveries: lats.length, p50Ms: round(pct(lats, 50)), p99Ms: round(pct(lats, 99)) });
}
results.targets.subscriberP99Ms = 50;

// 3 + 5. Throughput with 200 runs in flight, and peak memory meanwhile.
say('3. throughput with 200 runs in flight (chains of 5 stages)');
const p3 = await createPipeline('bench-load', chain(5, 'l'));
const peak = {};
const pids = Object.fromEntries(Object.entries(platform.processes).map(([name, p]) => [name, p.child.pid]));
const sampler = setInterval(() => {
  for (const [name, pid] of Object.entries(pids)) {
    try {
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
      peak[name] = Math.max(peak[name] ?? 0, rss);
    } catch {
      /* process gone */
    }
  }
}, 100);
// CPU seconds each process spends in (3): where the time goes on a two-core machine.
const cpuOf = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
};
const cpuPids = { ...pids, bench: process.pid };
/** Every PostgreSQL process on the machine (the server and its backends), summed. */
const postgresCpu = () => {
  let total = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres') total += cpuOf(d);
    } catch {
      /* gone */
    }
  }
  return total;
};
const cpuBefore = { ...Object.fromEntries(Object.entries(cpuPids).map(([n, pid]) => [n, cpuOf(pid)])), postgres: postgresCpu() };
const t0 = performance.now();
const before = transitions;
const runs = await Promise.all(Array.from({ length: 200 }, () => runPipeline(p3)));
await Promise.all(runs.map(finished));
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);
results.throughputCpuSeconds = { ...Object.fromEntries(Object.entries(cpuPids).map(([n, pid]) => [n, round(cpuOf(pid) - cpuBefore[n])])), postgres: round(postgresCpu() - cpuBefore.postgres) };
results.throughput = { runs: 200, stagesPerRun: 5, seconds: round(seconds), transitionsPerSecond: round((transitions - before) / seconds), runsPerSecond: round(200 / seconds), targetTransitionsPerSecond: 500 };
results.peakRssMb = Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, round(v)]));
results.targets.peakRssMb = 250;

// 4. Gateway overhead.
say('4. gateway overhead');
const direct = `${platform.serviceUrls.pipelines}/graphql`;
const query = '{ pipelinesInfo { service viewer { sub } } }';
const timeIt = async (fn) => {
  const xs = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return xs;
};
const viaGateway = await timeIt(() => gql(platform.gatewayUrl, query, { token }));
const viaSubgraph = await timeIt(() => gql(direct, query, { headers: signIdentity({ sub: 'bench', roles: ['ADMIN'] }, platform.internalSecret) }));
results.gateway = { gatewayP50Ms: round(pct(viaGateway, 50)), subgraphP50Ms: round(pct(viaSubgraph, 50)), ratio: round(pct(viaGateway, 50) / pct(viaSubgraph, 50)), targetRatio: 1.5 };

await nc.close();
await platform.stop();
hooks.close();

const rows = [
  ['1 stage transition p50 / p99 (ms)', `${results.stageTransition.p50Ms} / ${results.stageTransition.p99Ms}`, 'p99 < 20'],
  ...results.subscribers.map((s) => [`2 event->subscriber p50 / p99, ${s.subscribers} subs (ms)`, `${s.p50Ms} / ${s.p99Ms} (${s.deliveries} deliveries)`, 'p99 < 50 at 1000']),
  ['3 transitions/s, runs/s (200 in flight)', `${results.throughput.transitionsPerSecond}, ${results.throughput.runsPerSecond}`, '>= 500 transitions/s'],
  ['4 gateway / subgraph p50 (ms)', `${results.gateway.gatewayP50Ms} / ${results.gateway.subgraphP50Ms} = ${results.gateway.ratio}x`, '< 1.5x'],
  ...Object.entries(results.peakRssMb).map(([k, v]) => [`5 peak RSS ${k} (MB)`, String(v), '< 250']),
  ['CPU seconds in (3), by process', Object.entries(results.throughputCpuSeconds).map(([k, v]) => `${k} ${v}`).join(', '), '(for reading)'],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log(rows.map(([a, b, c]) => `${a.padEnd(w)}  ${b.padEnd(36)}  target ${c}`).join('\n'));
mkdirSync(join(here, 'results'), { recursive: true });
const file = join(here, 'results', `${results.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
say(`written ${file}`);
process.exit(0);
