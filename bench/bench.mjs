#!/usr/bin/env node
// `npm run bench`: boots the platform on the test environment (as the tests do) and measures
//   1. stage-transition latency: a stage's webhook answers -> the next stage's RUNNING event
//   2. run event -> subscriber latency with 1, 100 and 1,000 graphql-ws subscribers on one run, the
//      subscribers held by a process of their own (bench/subscribers.mjs) whose CPU time is reported
//   3. sustained stage transitions/s with 200 runs in flight (each finished run replaced at once),
//      the SQL statements each service sends meanwhile (bench/count-sql.cjs, preloaded into each
//      service) and the CPU seconds of each process
//   4. gateway overhead: one query through the gateway vs straight to the subgraph (p50 ratio)
//   5. peak resident memory (VmHWM) of every process over the whole bench
// and prints each figure beside its target (met or not), writing the same to bench/results/<timestamp>.json.
// BENCH_THROUGHPUT_RUNS (default 600) sets how many runs (3) starts in all.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { startPlatform, gql, connectTestNats, readTestEnvFile, freePort, SERVICE_NAMES } = require('../libs/testing/dist/index.js');

for (const [k, v] of Object.entries(readTestEnvFile())) process.env[k] ??= v;

const say = (m) => console.error(`[bench] ${new Date().toISOString().slice(11, 23)} ${m}`);
/** CLOCK_MONOTONIC in ms: shared by every process on the machine (the subscriber process uses it too). */
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const round = (x) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 100) / 100);
/** Resolves when check() holds (checked on each event and every 20 ms); rejects after timeoutMs naming what. */
const until = (what, check, timeoutMs = 30_000) =>
  new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`bench: gave up waiting ${timeoutMs} ms for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });

// A webhook receiver that remembers when it answered each stage.
const answeredAt = new Map();
const hooks = createServer((req, res) => {
  const key = `${req.headers['x-pipewright-run']}/${req.headers['x-pipewright-stage']}`;
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}', () => answeredAt.set(key, nowMs()));
  });
});
await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${hooks.address().port}/hook`;

say('starting the platform');
// Each service gets the SQL-counting preload and a port to serve its counts on.
// BENCH_<SERVICE>_NODE_OPTIONS (e.g. BENCH_EXECUTIONS_NODE_OPTIONS="--require ./profiler.js") is added for that service (profiling).
const sqlPorts = {};
const serviceEnv = {};
for (const s of SERVICE_NAMES) {
  sqlPorts[s] = await freePort();
  const own = process.env[`BENCH_${s.toUpperCase()}_NODE_OPTIONS`];
  const extra = own ? ` ${own}` : '';
  serviceEnv[s] = { NODE_OPTIONS: `--require ${join(here, 'count-sql.cjs')}${extra}`, BENCH_SQL_COUNT_PORT: String(sqlPorts[s]) };
}
Object.assign(serviceEnv.executions, { ENGINE_WORKERS: '8', ENGINE_SWEEP_MS: '200' });
// BENCH_GATEWAY_NODE_OPTIONS: the same for the gateway (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
// The bench measures the platform, not the per-caller rate limit (one caller drives it all).
const gatewayEnv = { RATE_LIMIT_PER_SECOND: '0', RATE_LIMIT_PER_ADDRESS_PER_SECOND: '0', ...(process.env.BENCH_GATEWAY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS } : {}) };
const platform = await startPlatform('bench', { LOG_LEVEL: 'error' }, serviceEnv, { gatewayEnv, outbound: [`127.0.0.1:${hooks.address().port}`] });
const sqlCounts = async () =>
  Object.fromEntries(
    await Promise.all(
      SERVICE_NAMES.map(async (s) => {
        const res = await fetch(`http://127.0.0.1:${sqlPorts[s]}/`).catch((e) => {
          throw new Error(`bench: the SQL count of ${s} (bench/count-sql.cjs on port ${sqlPorts[s]}) did not answer: ${e.message}`);
        });
        return [s, await res.json()];
      }),
    ),
  );
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
/** `${runId}/${refId}/${status}` of every stage event seen (to wait for a stage's state). */
const stageStates = new Set();
/** When each run event (runId/sequence) reached NATS: where "event -> subscriber" starts. */
const eventAt = new Map();
/** Per run: the distinct sequences of its events seen on NATS. */
const runSequences = new Map();
const runDone = new Map();
let transitions = 0;
const runWaiters = new Map();
const sawEvent = (e) => {
  const key = `${e.runId}/${e.sequence}`;
  if (!eventAt.has(key)) eventAt.set(key, nowMs());
  if (!runSequences.has(e.runId)) runSequences.set(e.runId, new Set());
  runSequences.get(e.runId).add(e.sequence);
};
nc.subscribe(`${platform.prefix}.evt.executions.stage.status-changed.v1`, {
  callback: (_e, m) => {
    const e = m.json();
    sawEvent(e);
    stageStates.add(`${e.runId}/${e.refId}/${e.status}`);
    if (e.status === 'RUNNING' && e.attempt === 1) stageRunningAt.set(`${e.runId}/${e.refId}`, nowMs());
    if (e.status === 'SUCCEEDED') transitions++;
  },
});
nc.subscribe(`${platform.prefix}.evt.executions.run.status-changed.v1`, {
  callback: (_e, m) => {
    const e = m.json();
    sawEvent(e);
    if (['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED'].includes(e.status)) {
      runDone.set(e.runId, e.status);
      runWaiters.get(e.runId)?.();
    }
  },
});
const finished = (runId) => new Promise((r) => (runDone.has(runId) ? r() : runWaiters.set(runId, r)));
const results = { date: new Date().toISOString(), machine: { cpus: cpus().length }, targets: {} };

// CPU seconds (user + system) of a process, from /proc.
const cpuOf = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
};
const pidsOf = () => Object.fromEntries(Object.entries(platform.processes).map(([name, p]) => [name, p.child.pid]));
const cpuSnapshot = (pids) => Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuOf(pid)]));
const cpuSince = (pids, before) => Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, round(cpuOf(pid) - before[n])]));
/** CPU seconds of every PostgreSQL process by pid, and whether it serves one of this bench's databases. */
const postgresProcesses = () => {
  const out = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'postgres') continue;
      out.set(d, { cpu: cpuOf(d), ours: readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(platform.prefix) });
    } catch {
      /* gone */
    }
  }
  return out;
};
/** CPU PostgreSQL spent since `before`: its backends serving this bench's databases, and all of it (the machine is shared). */
const postgresCpuSince = (before) => {
  let ours = 0;
  let all = 0;
  for (const [pid, p] of postgresProcesses()) {
    const spent = p.cpu - (before.get(pid)?.cpu ?? 0);
    all += spent;
    if (p.ours) ours += spent;
  }
  return { postgres: round(ours), postgresAllOnMachine: round(all) };
};

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
say('2. event -> subscriber latency (1, 100, 1000 subscribers, in a process of their own)');
const subscriberProcess = fork(join(here, 'subscribers.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const fromSubscribers = (type) =>
  new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m.type === 'error') reject(new Error(`bench/subscribers.mjs: ${m.message}`));
      else if (m.type !== type) return;
      else resolve(m);
      subscriberProcess.off('message', onMessage);
      subscriberProcess.off('exit', onExit);
    };
    const onExit = (code) => reject(new Error(`bench/subscribers.mjs exited (${code}) while the bench waited for "${type}"`));
    subscriberProcess.on('message', onMessage);
    subscriberProcess.once('exit', onExit);
  });
await fromSubscribers('started');
results.subscribers = [];
const pJudge = await createPipeline('bench-judge', Array.from({ length: 10 }, (_, i) => ({ refId: `j${i}`, name: `j${i}`, type: 'JUDGEMENT', dependsOn: i ? [`j${i - 1}`] : [], config: {} })));
const stageIs = (runId, refId, status) => until(`stage ${refId} of run ${runId} to be ${status}`, () => stageStates.has(`${runId}/${refId}/${status}`));
/** A run's events on NATS quiet for 300 ms (e.g. its own WAITING after its stage's; bench pacing, not a test). */
const settled = (runId) => {
  let seen = -1;
  let quietSince = nowMs();
  return until(`the events of run ${runId} to settle`, () => {
    const n = runSequences.get(runId)?.size ?? 0;
    if (n !== seen) [seen, quietSince] = [n, nowMs()];
    return nowMs() - quietSince >= 300;
  });
};
for (const count of [1, 100, 1000]) {
  const runId = await runPipeline(pJudge);
  // Subscribe once the run is at rest (j0 WAITING): only the states the decisions cause are measured.
  await stageIs(runId, 'j0', 'WAITING');
  await settled(runId);
  const pids = { ...pidsOf(), subscribers: subscriberProcess.pid };
  const cpuBefore = cpuSnapshot(pids);
  const ready = fromSubscribers('ready');
  subscriberProcess.send({ type: 'open', url: platform.gatewayUrl.replace(/^http/, 'ws'), token, runId, count });
  const { firstSequences } = await ready;
  // Each judgement decided commits a few events; each must reach every subscriber.
  for (let j = 0; j < 9; j++) {
    await stageIs(runId, `j${j}`, 'WAITING');
    await ok(`mutation($r: ID!, $ref: ID!) { judge(runId: $r, refId: $ref, decision: CONTINUE) { status } }`, { r: runId, ref: `j${j}` });
  }
  await stageIs(runId, 'j9', 'WAITING');
  await settled(runId);
  const sequences = [...(runSequences.get(runId) ?? [])];
  const lastSequence = Math.max(...sequences);
  // Every subscriber should get every state after its first; give the stragglers up to 10 s.
  const expected = firstSequences.reduce((n, first) => n + sequences.filter((s) => s > first).length, 0);
  const deadline = nowMs() + 10_000;
  for (;;) {
    const counted = fromSubscribers('count');
    subscriberProcess.send({ type: 'count' });
    if ((await counted).deliveries >= expected || nowMs() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const closing = fromSubscribers('closed');
  subscriberProcess.send({ type: 'close' });
  const closed = await closing;
  const got = closed.deliveries;
  const lats = [];
  for (const [sequence, at] of got) {
    const from = eventAt.get(`${runId}/${sequence}`);
    if (from !== undefined) lats.push(at - from);
  }
  const cpu = cpuSince(pids, cpuBefore);
  results.subscribers.push({
    subscribers: count,
    deliveries: lats.length,
    expectedDeliveries: expected,
    lastSequence,
    p50Ms: round(pct(lats, 50)),
    p99Ms: round(pct(lats, 99)),
    cpuSeconds: { subscriberProcess: closed.cpuSeconds, gateway: cpu.gateway, executions: cpu.executions },
  });
}
results.targets.subscriberP99Ms = 50;

// 3. Throughput with 200 runs in flight: each run that finishes is replaced at once, until
// BENCH_THROUGHPUT_RUNS have started. Transitions/s is measured from the moment the first 200 are
// all started to the moment the last one is: 200 runs are in flight all that time.
const inFlight = 200;
const totalRuns = Math.max(inFlight * 2, Number(process.env.BENCH_THROUGHPUT_RUNS ?? 600));
say(`3. throughput with ${inFlight} runs in flight (${totalRuns} runs of 5 chained stages)`);
const p3 = await createPipeline('bench-load', chain(5, 'l'));
const pids3 = { ...pidsOf(), bench: process.pid, subscribers: subscriberProcess.pid };
const cpuBefore3 = cpuSnapshot(pids3);
const pgBefore3 = postgresProcesses();
const sqlBefore = await sqlCounts();
const t0 = nowMs();
const transitionsAt0 = transitions;
let launched = 0;
let windowStart = null;
let windowEnd = null;
const loadRuns = [];
const keepOneInFlight = async () => {
  while (launched < totalRuns) {
    launched++;
    const runId = await runPipeline(p3);
    loadRuns.push(runId);
    if (loadRuns.length === inFlight) windowStart = { at: nowMs(), transitions };
    if (loadRuns.length === totalRuns) windowEnd = { at: nowMs(), transitions };
    await finished(runId);
  }
};
await Promise.all(Array.from({ length: inFlight }, keepOneInFlight)).catch(async (err) => {
  // What the services said, so a failure under load can be diagnosed from the bench's output.
  for (const name of ['executions', 'pipelines', 'gateway']) console.error(`--- ${name} output ---\n${platform.processes[name].output().slice(-3000)}`);
  await platform.stop(); // its services would otherwise outlive the bench, holding database connections
  throw err;
});
const seconds = (nowMs() - t0) / 1000;
const sqlAfter = await sqlCounts();
const phaseTransitions = transitions - transitionsAt0;
results.throughputCpuSeconds = { ...cpuSince(pids3, cpuBefore3), ...postgresCpuSince(pgBefore3) };
const steadySeconds = (windowEnd.at - windowStart.at) / 1000;
const loadLat = [];
for (const runId of loadRuns)
  for (let s = 0; s < 4; s++) {
    const a = answeredAt.get(`${runId}/l${s}`);
    const b = stageRunningAt.get(`${runId}/l${s + 1}`);
    if (a && b) loadLat.push(b - a);
  }
results.throughput = {
  runs: totalRuns,
  runsInFlight: inFlight,
  stagesPerRun: 5,
  seconds: round(seconds),
  transitions: phaseTransitions,
  steadySeconds: round(steadySeconds),
  transitionsPerSecond: round((windowEnd.transitions - windowStart.transitions) / steadySeconds),
  overallTransitionsPerSecond: round(phaseTransitions / seconds),
  runsPerSecond: round(totalRuns / seconds),
  transitionP50MsUnderLoad: round(pct(loadLat, 50)),
  transitionP99MsUnderLoad: round(pct(loadLat, 99)),
  targetTransitionsPerSecond: 500,
};
// Per service: statements sent in (3), in all and by first keyword.
results.sql = {
  note: 'node-postgres Client#query calls counted in each service (bench/count-sql.cjs) during (3), BEGIN/COMMIT included; statementsPerTransition is the executions service\'s count over the stage transitions of (3), so run start and finish are spread over the 5 stages of a run',
  statementsInThroughput: Object.fromEntries(SERVICE_NAMES.map((s) => [s, sqlAfter[s].total - sqlBefore[s].total])),
  executionsPerTransitionByKind: Object.fromEntries(
    Object.entries(sqlAfter.executions.byKind)
      .map(([k, n]) => [k, round((n - (sqlBefore.executions.byKind[k] ?? 0)) / phaseTransitions)])
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]),
  ),
  // The statements themselves (their first 90 characters), per transition, most frequent first.
  executionsPerTransitionByStatement: Object.fromEntries(
    Object.entries(sqlAfter.executions.byText ?? {})
      .map(([k, n]) => [k, round((n - (sqlBefore.executions.byText?.[k] ?? 0)) / phaseTransitions)])
      .filter(([, n]) => n >= 0.05)
      .sort((a, b) => b[1] - a[1]),
  ),
};
results.statementsPerTransition = round(results.sql.statementsInThroughput.executions / phaseTransitions);
results.cpuMsPerTransition = {
  executions: round((results.throughputCpuSeconds.executions * 1000) / phaseTransitions),
  postgres: round((results.throughputCpuSeconds.postgres * 1000) / phaseTransitions),
};

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
const viaSubgraph = await timeIt(() => gql(direct, query, { sign: { identity: { sub: 'bench', roles: ['ADMIN'] }, secret: platform.internalSecret, audience: 'pipelines' } }));
results.gateway = { gatewayP50Ms: round(pct(viaGateway, 50)), subgraphP50Ms: round(pct(viaSubgraph, 50)), ratio: round(pct(viaGateway, 50) / pct(viaSubgraph, 50)), targetRatio: 1.5 };

// 5. Peak RSS: the kernel's high-water mark of each process, over its whole life (the whole bench).
const hwmMb = (pid) => {
  try {
    return round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);
  } catch {
    return null;
  }
};
results.peakRssMb = Object.fromEntries(Object.entries({ ...pidsOf(), subscribers: subscriberProcess.pid, bench: process.pid }).map(([n, pid]) => [n, hwmMb(pid)]));
results.targets.peakRssMb = 250;

subscriberProcess.send({ type: 'exit' });
await nc.close();
await platform.stop();
hooks.close();

// Each figure beside its target.
const checks = [];
const check = (figure, value, target, met) => checks.push({ figure, value, target, met });
check('statements per stage transition (executions, BEGIN/COMMIT included)', results.statementsPerTransition, '<= 6', results.statementsPerTransition !== null && results.statementsPerTransition <= 6);
check('stage transition p50 / p99 (ms)', `${results.stageTransition.p50Ms} / ${results.stageTransition.p99Ms}`, 'p99 < 20', results.stageTransition.p99Ms !== null && results.stageTransition.p99Ms < 20);
check(`transitions/s, ${inFlight} runs in flight`, results.throughput.transitionsPerSecond, '>= 500', results.throughput.transitionsPerSecond >= 500);
check('  under that load: overall transitions/s, runs/s, transition p50 / p99 (ms)', `${results.throughput.overallTransitionsPerSecond}, ${results.throughput.runsPerSecond}, ${results.throughput.transitionP50MsUnderLoad} / ${results.throughput.transitionP99MsUnderLoad}`, '(for reading)', null);
for (const s of results.subscribers) {
  const at1000 = s.subscribers === 1000;
  check(`event->subscriber p50 / p99, ${s.subscribers} subscribers (ms)`, `${s.p50Ms} / ${s.p99Ms} (${s.deliveries} of ${s.expectedDeliveries} deliveries)`, at1000 ? 'p99 < 50' : '(for reading)', at1000 ? s.p99Ms !== null && s.p99Ms < 50 && s.deliveries === s.expectedDeliveries : null);
  check(`  CPU s meanwhile: subscriber process, gateway, executions`, `${s.cpuSeconds.subscriberProcess}, ${s.cpuSeconds.gateway}, ${s.cpuSeconds.executions}`, '(for reading)', null);
}
check('gateway / subgraph p50 (ms)', `${results.gateway.gatewayP50Ms} / ${results.gateway.subgraphP50Ms} = ${results.gateway.ratio}x`, '< 1.5x', results.gateway.ratio !== null && results.gateway.ratio < 1.5);
for (const [k, v] of Object.entries(results.peakRssMb)) check(`peak RSS ${k} (MB)`, v, k === 'bench' ? '(for reading)' : '< 250', k === 'bench' ? null : v !== null && v < 250);
check('CPU seconds in (3), by process', Object.entries(results.throughputCpuSeconds).map(([k, v]) => `${k} ${v}`).join(', '), '(for reading)', null);
check('CPU ms per transition in (3): executions, postgres', `${results.cpuMsPerTransition.executions}, ${results.cpuMsPerTransition.postgres}`, '(for reading)', null);
check('SQL per transition by kind (executions)', Object.entries(results.sql.executionsPerTransitionByKind).map(([k, v]) => `${k} ${v}`).join(', '), '(for reading)', null);
results.checks = checks;
results.allTargetsMet = checks.every((c) => c.met !== false);

const w = Math.max(...checks.map((c) => c.figure.length));
const wv = Math.min(60, Math.max(...checks.map((c) => String(c.value).length)));
console.log(
  checks
    .map((c) => `${c.figure.padEnd(w)}  ${String(c.value).padEnd(wv)}  ${c.met === null ? '' : `target ${c.target}: ${c.met ? 'met' : 'MISSED'}`}`.trimEnd())
    .join('\n'),
);
mkdirSync(join(here, 'results'), { recursive: true });
const file = join(here, 'results', `${results.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
say(`written ${file}`);
process.exit(0);
