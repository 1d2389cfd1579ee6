// Resilience of the engine (issue 13): PostgreSQL and NATS restarted under running runs, on servers
// of this suite's own (the shared ones serve suites running in parallel), and the work shared by
// two executions and two builds instances.
import type { RunStatus } from '@pipewright/contracts';
import { MessageBus, type BusLogger } from '@pipewright/messaging';
import {
  connectTestNats,
  hostPortOf,
  pipelineDriver,
  serviceQuery,
  startNats,
  startPlatform,
  startPostgres,
  testEnv,
  waitFor,
  type NatsAccess,
  type OwnServer,
  type RunningProcess,
  type TestPlatform,
} from '@pipewright/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HooksServer } from './hooks-server';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;
const TERMINAL: RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED'];

interface RunOut {
  id: string;
  number: number;
  status: RunStatus;
  reason: string | null;
  stages: { refId: string; status: string; attempt: number; error: string | null }[];
}
const RUN_FIELDS = 'id number status reason stages { refId status attempt error }';

/** One status event as a subscriber saw it. */
interface SeenEvent {
  refId: string | null;
  status: string;
  sequence: number;
  attempt: number | null;
  at: number;
}

/** Fails as soon as one of the platform's processes exits, with its last output; else `work`'s result. */
function whileAlive<T>(platform: TestPlatform, what: string, work: Promise<T>): Promise<T> {
  const all: [string, RunningProcess][] = [
    ...Object.entries(platform.processes),
    ...Object.entries(platform.replicas).flatMap(([s, ps]) => ps.map((p, i) => [`${s} replica ${i + 2}`, p] as [string, RunningProcess])),
  ];
  const died = new Promise<never>((_, reject) => {
    for (const [name, proc] of all) {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) reject(new Error(`${name} had exited before ${what}:\n${proc.output().slice(-4000)}`));
      void proc.exited.then((code) => reject(new Error(`${name} exited (${code}) while waiting for ${what}; its last output:\n${proc.output().slice(-4000)}`)));
    }
  });
  const tails = () => all.map(([name, proc]) => `--- ${name} (last output) ---\n${proc.output().slice(-3000)}`).join('\n');
  return Promise.race([work.catch((err: Error) => Promise.reject(new Error(`${err.message}\n${tails()}`))), died]);
}

/**
 * Every run and stage status event of `runIds` in the events stream, read from its start by a
 * new consumer, once each run's events 1..n (n: its `sequence` in the database) have arrived.
 */
async function streamEvents(platform: TestPlatform, access: NatsAccess, runIds: string[], timeoutMs = 15_000): Promise<Map<string, SeenEvent[]>> {
  const expected = await serviceQuery<{ id: string; sequence: number }>(platform, 'executions', `SELECT id::text, sequence FROM runs WHERE id = ANY($1::uuid[])`, [runIds]);
  expect(expected).toHaveLength(runIds.length);
  const nc = await connectTestNats('resilience-spec', { access, maxReconnectAttempts: -1 });
  const bus = new MessageBus(nc, platform.prefix, 'resilience-spec', quiet);
  const wanted = new Set(runIds);
  const seen = new Map<string, SeenEvent[]>();
  const add = (runId: string, e: SeenEvent) => {
    if (wanted.has(runId)) seen.set(runId, [...(seen.get(runId) ?? []), e]);
  };
  const tag = randomBytes(4).toString('hex');
  // One consumer per subject: NATS before 2.10 takes one filter per consumer.
  const consumers = [
    await bus.consume(['evt.executions.run.status-changed.v1'], { durable: `resilience-runs-${tag}`, from: 'all' }, async (e) =>
      add(e.runId, { refId: null, status: e.status, sequence: e.sequence, attempt: null, at: Date.parse(e.at) }),
    ),
    await bus.consume(['evt.executions.stage.status-changed.v1'], { durable: `resilience-stages-${tag}`, from: 'all' }, async (e) =>
      add(e.runId, { refId: e.refId, status: e.status, sequence: e.sequence, attempt: e.attempt, at: Date.parse(e.at) }),
    ),
  ];
  try {
    await waitFor(
      `every event of ${runIds.length} runs in the events stream`,
      () => expected.every((r) => new Set((seen.get(r.id) ?? []).map((e) => e.sequence)).size === r.sequence),
      timeoutMs,
    ).catch((err: Error) => {
      const missing = expected
        .map((r) => ({ run: r.id, expected: r.sequence, got: [...new Set((seen.get(r.id) ?? []).map((e) => e.sequence))].sort((a, b) => a - b) }))
        .filter((m) => m.got.length !== m.expected);
      throw new Error(`${err.message}; runs with events missing: ${JSON.stringify(missing)}`);
    });
  } finally {
    await Promise.all(consumers.map((c) => c.stop()));
    await nc.close();
  }
  return seen;
}

/** Each run's events: 1..n once each, QUEUED → RUNNING → SUCCEEDED, and every stage RUNNING → SUCCEEDED on attempt 1. */
function expectCompleteHistories(events: Map<string, SeenEvent[]>, stageRefs: string[]) {
  for (const [runId, seen] of events) {
    const sequences = seen.map((e) => e.sequence).sort((a, b) => a - b);
    expect({ runId, sequences }).toEqual({ runId, sequences: sequences.map((_, i) => i + 1) });
    const ordered = [...seen].sort((a, b) => a.sequence - b.sequence);
    expect({ runId, run: ordered.filter((e) => e.refId === null).map((e) => e.status) }).toEqual({ runId, run: ['QUEUED', 'RUNNING', 'SUCCEEDED'] });
    for (const refId of stageRefs) {
      const stage = ordered.filter((e) => e.refId === refId);
      expect({ runId, refId, statuses: stage.map((e) => `${e.status}#${e.attempt}`) }).toEqual({ runId, refId, statuses: ['RUNNING#1', 'SUCCEEDED#1'] });
    }
  }
}

describe('resilience: restarts of PostgreSQL and of NATS under running runs (servers of its own)', () => {
  /** Runs held open across each restart. */
  const RUNS = 4;
  /** Runs started one after another after a restart, each of which must move at once. */
  const PROMPT_RUNS = 3;
  /** "Moves within a second": from runPipeline's answer to its first stage's call and its RUNNING event. */
  const PROMPT_MS = 1000;
  /** The engine's backstop sweep: high, so only NOTIFY can make a run move within PROMPT_MS. */
  const SWEEP_MS = 60_000;
  const LEASE_SECONDS = 15;
  /** Runs cut by a restart may wait for an expired lease and one backstop sweep; nothing longer. */
  const RECOVERY_MS = SWEEP_MS + LEASE_SECONDS * 1000 + 25_000;

  let pg: OwnServer;
  let nats: OwnServer & { access: NatsAccess };
  let platform: TestPlatform;
  let dev: string;
  let repositoryId: string;
  let workspaces: string;
  const hooks = new HooksServer();
  const { ok, pipeline, start, read } = pipelineDriver<RunOut>(() => platform.gatewayUrl, () => dev, RUN_FIELDS, { label: 'resilience' });
  const hook = (refId: string, path: string, dependsOn: string[] = []) => ({
    refId,
    name: refId,
    type: 'WEBHOOK',
    dependsOn,
    config: { url: `${hooks.url}${path}`, method: 'POST', body: { refId, run: '${run.number}' } },
  });
  const calledBy = (path: string, runId: string) => hooks.log.filter((c) => c.path === path && c.runId === runId);

  const startRuns = async (pipelineId: string, n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await start(pipelineId)).id);
    return ids;
  };
  const finish = (runIds: string[], what: string, timeoutMs: number) =>
    whileAlive(
      platform,
      what,
      waitFor(
        what,
        async () => {
          const runs = await Promise.all(runIds.map(read));
          return runs.every((r) => TERMINAL.includes(r.status)) && runs;
        },
        timeoutMs,
      ),
    );
  const expectSucceeded = (runs: RunOut[]) =>
    expect(runs.map((r) => ({ run: r.number, status: r.status, reason: r.reason, stages: r.stages.filter((s) => s.status !== 'SUCCEEDED') }))).toEqual(
      runs.map((r) => ({ run: r.number, status: 'SUCCEEDED', reason: null, stages: [] })),
    );

  /**
   * LISTEN is re-established: runs started one after another (each once the previous has ended,
   * so no busy worker picks the next one up by chance) each call their first stage and report
   * RUNNING within PROMPT_MS, far sooner than the SWEEP_MS backstop could.
   */
  const expectPromptStarts = async (label: string) => {
    const tag = unique('prompt');
    const pipelineId = await pipeline([hook('p0', `/ok/${tag}/p0`)]);
    const delays: { run: number; firstCallMs: number }[] = [];
    const runIds: string[] = [];
    for (let i = 0; i < PROMPT_RUNS; i++) {
      const run = await start(pipelineId);
      const answeredAt = Date.now();
      const call = await whileAlive(
        platform,
        `${label}: run ${run.number}'s first call`,
        waitFor(`${label}: run ${run.number} to call its first hook (NOTIFY wakes the engine at once; its sweep is every ${SWEEP_MS} ms)`, () => calledBy(`/ok/${tag}/p0`, run.id)[0], 5_000),
      );
      delays.push({ run: run.number, firstCallMs: call.at - answeredAt });
      runIds.push(run.id);
      await finish([run.id], `${label}: prompt run ${run.number} to finish`, 10_000);
    }
    expect(delays.filter((d) => d.firstCallMs >= PROMPT_MS)).toEqual([]);
    // The same through events: RUNNING follows QUEUED within PROMPT_MS (the event's own timestamps).
    const events = await streamEvents(platform, nats.access, runIds);
    const running = runIds.map((id) => {
      const seen = events.get(id)!;
      const at = (status: string) => seen.find((e) => e.refId === null && e.status === status)?.at ?? NaN;
      return { run: id, queuedToRunningMs: at('RUNNING') - at('QUEUED') };
    });
    expect(running.filter((r) => !(r.queuedToRunningMs < PROMPT_MS))).toEqual([]);
    expectCompleteHistories(events, ['p0']);
  };

  beforeAll(async () => {
    pg = await startPostgres('resilience-pg');
    nats = await startNats('resilience-nats');
    await hooks.start();
    workspaces = mkdtempSync(join(tmpdir(), 'pw-resilience-builds-'));
    platform = await startPlatform(
      'resilience',
      {},
      {
        executions: { ENGINE_SWEEP_MS: String(SWEEP_MS), ENGINE_LEASE_SECONDS: String(LEASE_SECONDS) },
        builds: { GIT_BIN: 'git', BUILD_WORKSPACE_DIR: workspaces, BUILDS_INSTANCE_ID: 'resilience' },
      },
      { databaseUrl: pg.url, nats: nats.access, outbound: [hostPortOf(hooks.url)] },
    );
    dev = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    const admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    repositoryId = (
      await ok<{ createSourceRepository: { id: string } }>(
        `mutation($i: CreateSourceRepositoryInput!) { createSourceRepository(input: $i) { id } }`,
        { i: { name: unique('sample'), provider: 'GITHUB', url: testEnv('GIT_SAMPLE_REPO_URL'), defaultBranch: 'main', token: testEnv('GIT_TOKEN') } },
        admin,
      )
    ).createSourceRepository.id;
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([nats?.stop(), pg?.stop(), hooks.stop()]);
    if (workspaces) rmSync(workspaces, { recursive: true, force: true });
  }, 120_000);

  it('PostgreSQL restarted while calls are in flight: every run finishes, nothing is lost, and a new run moves within a second', async () => {
    const tag = unique('pg');
    const held = `/hold/${tag}/s1`;
    const pipelineId = await pipeline([hook('s0', `/ok/${tag}/s0`), hook('s1', held, ['s0']), hook('s2', `/ok/${tag}/s2`, ['s1'])]);
    const runIds = await startRuns(pipelineId, RUNS);
    await whileAlive(platform, 'the held calls', waitFor(`all ${RUNS} runs to hold their s1 call open`, () => hooks.held(held) === RUNS, 60_000));

    // The held calls answer while PostgreSQL is down: their outcomes can only be recorded after it is back.
    await whileAlive(platform, 'the PostgreSQL restart', pg.restart(() => hooks.release(held)));
    const runs = await finish(runIds, `every run cut by the PostgreSQL restart to finish`, RECOVERY_MS);
    expectSucceeded(runs);

    // One attempt per stage; each call made once, except the one whose answer came while the database was down (at most once more, same key).
    const attempts = await serviceQuery(platform, 'executions', `SELECT ref_id, attempt, count(*)::int AS n FROM stage_runs WHERE run_id = ANY($1::uuid[]) GROUP BY 1, 2 ORDER BY 1`, [runIds]);
    expect(attempts).toEqual(['s0', 's1', 's2'].map((ref_id) => ({ ref_id, attempt: 1, n: RUNS })));
    for (const runId of runIds) {
      expect({ runId, s0: calledBy(`/ok/${tag}/s0`, runId).length, s2: calledBy(`/ok/${tag}/s2`, runId).length }).toEqual({ runId, s0: 1, s2: 1 });
      const s1 = calledBy(held, runId);
      expect({ runId, s1Calls: s1.length <= 2, s1Keys: new Set(s1.map((c) => c.key)).size }).toEqual({ runId, s1Calls: true, s1Keys: 1 });
    }
    expectCompleteHistories(await streamEvents(platform, nats.access, runIds), ['s0', 's1', 's2']);

    await expectPromptStarts('after the PostgreSQL restart');
  }, 420_000);

  it('NATS restarted mid-run: the engine carries on without it, every run (with a Source stage) finishes, nothing is lost', async () => {
    const tag = unique('nats');
    const held = `/hold/${tag}/s1`;
    const pipelineId = await pipeline([
      hook('s0', `/ok/${tag}/s0`),
      hook('s1', held, ['s0']),
      hook('s2', `/ok/${tag}/s2`, ['s1']),
      // Its build command and finished event cross NATS, after the restart.
      { refId: 'src', name: 'src', type: 'SOURCE_GITHUB', dependsOn: ['s2'], config: { repositoryId } },
      hook('s3', `/ok/${tag}/s3`, ['src']),
    ]);
    const runIds = await startRuns(pipelineId, RUNS);
    await whileAlive(platform, 'the held calls', waitFor(`all ${RUNS} runs to hold their s1 call open`, () => hooks.held(held) === RUNS, 60_000));

    // While NATS is down the engine still moves (state and outbox are PostgreSQL's): each run gets to s2.
    let withoutNats: true | Error = true;
    await whileAlive(platform, 'the NATS restart', nats.restart(async () => {
      await hooks.release(held);
      withoutNats = await waitFor(`every run to call s2 while NATS is down`, () => runIds.every((r) => calledBy(`/ok/${tag}/s2`, r).length > 0), 20_000).then(
        () => true as const,
        (err: Error) => err,
      );
    }));
    const runs = await finish(runIds, `every run cut by the NATS restart to finish`, RECOVERY_MS);
    expect(withoutNats).toBe(true);
    expectSucceeded(runs);

    const attempts = await serviceQuery(platform, 'executions', `SELECT ref_id, attempt, count(*)::int AS n FROM stage_runs WHERE run_id = ANY($1::uuid[]) GROUP BY 1, 2 ORDER BY 1`, [runIds]);
    expect(attempts).toEqual(['s0', 's1', 's2', 's3', 'src'].map((ref_id) => ({ ref_id, attempt: 1, n: RUNS })));
    for (const runId of runIds) {
      const counts = Object.fromEntries(['s0', 's2', 's3'].map((s) => [s, calledBy(`/ok/${tag}/${s}`, runId).length]));
      expect({ runId, ...counts, s1: calledBy(held, runId).length }).toEqual({ runId, s0: 1, s1: 1, s2: 1, s3: 1 });
    }
    const builds = await serviceQuery(platform, 'builds', `SELECT status, count(*)::int AS n FROM builds WHERE run_id = ANY($1::uuid[]) GROUP BY 1`, [runIds]);
    expect(builds).toEqual([{ status: 'SUCCEEDED', n: RUNS }]);
    expectCompleteHistories(await streamEvents(platform, nats.access, runIds), ['s0', 's1', 's2', 'src', 's3']);

    await expectPromptStarts('after the NATS restart');
  }, 420_000);
});

/** Which of `pids` holds the client end of the 127.0.0.1 connection from `clientPort` to `serverPort` (Linux /proc). */
async function processOfConnection(clientPort: number, serverPort: number, pids: number[], byInode: Map<string, number>): Promise<number | undefined> {
  const hex = (n: number) => `:${n.toString(16).toUpperCase().padStart(4, '0')}`;
  const table = await readFile('/proc/net/tcp', 'utf8');
  // Fields: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
  const row = table
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(hex(clientPort)) && f[2]?.endsWith(hex(serverPort)));
  const inode = row?.[9];
  if (!inode || inode === '0') return undefined;
  if (byInode.has(inode)) return byInode.get(inode);
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === `socket:[${inode}]`) {
        byInode.set(inode, pid);
        return pid;
      }
    }
  }
  return undefined;
}

describe('replicas: two executions and two builds instances share the work', () => {
  const RUNS = 50;
  /** Runs started at once through the gateway. */
  const START_CONCURRENCY = 5;
  const REFS = ['src', 'a', 'b', 'c'];

  let platform: TestPlatform;
  let dev: string;
  let repositoryId: string;
  let workspaces: string;
  const hooks = new HooksServer();
  /** Idempotency-Key → pid of the executions process that made the call. */
  const callers = new Map<string, number | undefined>();
  const { ok, pipeline, start } = pipelineDriver<RunOut>(() => platform.gatewayUrl, () => dev, RUN_FIELDS, { label: 'replicas' });

  beforeAll(async () => {
    await hooks.start();
    workspaces = mkdtempSync(join(tmpdir(), 'pw-replicas-builds-'));
    platform = await startPlatform(
      'replicas',
      {},
      { builds: { GIT_BIN: 'git', BUILD_WORKSPACE_DIR: workspaces, BUILDS_INSTANCE_ID: 'replicas' } },
      { replicas: { executions: 2, builds: 2 }, outbound: [hostPortOf(hooks.url)] },
    );
    dev = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    const admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    repositoryId = (
      await ok<{ createSourceRepository: { id: string } }>(
        `mutation($i: CreateSourceRepositoryInput!) { createSourceRepository(input: $i) { id } }`,
        { i: { name: unique('sample'), provider: 'GITHUB', url: testEnv('GIT_SAMPLE_REPO_URL'), defaultBranch: 'main', token: testEnv('GIT_TOKEN') } },
        admin,
      )
    ).createSourceRepository.id;
    // Which builds instance claims each build, every time one does (a second claim would be a second start).
    await serviceQuery(
      platform,
      'builds',
      `CREATE TABLE resilience_claims (build_id uuid NOT NULL, owner text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
       CREATE FUNCTION resilience_claim() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN INSERT INTO resilience_claims (build_id, owner) VALUES (NEW.id, NEW.owner); RETURN NEW; END $$;
       CREATE TRIGGER resilience_claim AFTER INSERT OR UPDATE OF owner ON builds
         FOR EACH ROW WHEN (NEW.owner IS NOT NULL) EXECUTE FUNCTION resilience_claim();`,
    );
    const pids = [platform.processes.executions, ...platform.replicas.executions].map((p) => p.child.pid!);
    const serverPort = Number(new URL(hooks.url).port);
    const byInode = new Map<string, number>();
    hooks.onCall = async (call) => void callers.set(call.key, await processOfConnection(call.remotePort, serverPort, pids, byInode));
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
    await hooks.stop();
    if (workspaces) rmSync(workspaces, { recursive: true, force: true });
  });

  it(`${RUNS} runs of SOURCE → two parallel webhooks → webhook finish, no stage started twice, both instances of each service working`, async () => {
    const tag = unique('replicas');
    const hook = (refId: string, path: string, dependsOn: string[]) => ({ refId, name: refId, type: 'WEBHOOK', dependsOn, config: { url: `${hooks.url}${path}`, method: 'POST', body: { refId } } });
    // A short delay keeps calls in flight while the other instance's workers look for work.
    const paths = { a: `/delay/30/${tag}/a`, b: `/delay/30/${tag}/b`, c: `/ok/${tag}/c` };
    const pipelineId = await pipeline([
      { refId: 'src', name: 'src', type: 'SOURCE_GITHUB', config: { repositoryId } },
      hook('a', paths.a, ['src']),
      hook('b', paths.b, ['src']),
      hook('c', paths.c, ['a', 'b']),
    ]);
    const runIds: string[] = [];
    const queue = Array.from({ length: RUNS }, (_, i) => i);
    await Promise.all(
      Array.from({ length: START_CONCURRENCY }, async () => {
        while (queue.shift() !== undefined) runIds.push((await start(pipelineId)).id);
      }),
    );
    const runs = await whileAlive(
      platform,
      `${RUNS} runs`,
      waitFor(
        `all ${RUNS} runs to finish`,
        async () => {
          const rows = await serviceQuery<{ id: string; status: string; reason: string | null }>(platform, 'executions', `SELECT id::text, status, reason FROM runs WHERE pipeline_id = $1`, [pipelineId]);
          return rows.length === RUNS && rows.every((r) => TERMINAL.includes(r.status as RunStatus)) && rows;
        },
        240_000,
      ),
    );
    expect(runs.filter((r) => r.status !== 'SUCCEEDED')).toEqual([]);

    // Executions: one attempt per stage, nothing left in the queue.
    const stages = await serviceQuery(platform, 'executions', `SELECT ref_id, status, attempt, count(*)::int AS n FROM stage_runs WHERE run_id = ANY($1::uuid[]) GROUP BY 1, 2, 3 ORDER BY 1`, [runIds]);
    expect(stages).toEqual([...REFS].sort().map((ref_id) => ({ ref_id, status: 'SUCCEEDED', attempt: 1, n: RUNS })));
    expect(await serviceQuery(platform, 'executions', `SELECT count(*)::int AS n FROM engine_messages WHERE run_id = ANY($1::uuid[])`, [runIds])).toEqual([{ n: 0 }]);

    // The hooks: one key per run and stage, each called exactly once.
    for (const [refId, path] of Object.entries(paths)) {
      const keys = [...(hooks.keys.get(path) ?? [])];
      expect({ refId, keys: keys.length, repeated: keys.filter((k) => hooks.callsByKey.get(k) !== 1).map((k) => [k, hooks.callsByKey.get(k)]) }).toEqual({ refId, keys: RUNS, repeated: [] });
    }

    // Builds: one per run, claimed once, started once (no "resuming" take-over), by both instances between them.
    const builds = await serviceQuery<{ id: string; status: string; claims: string[]; started: number; resumed: number }>(
      platform,
      'builds',
      `SELECT b.id::text, b.status,
              (SELECT array_agg(split_part(c.owner, '/', 1) ORDER BY c.at) FROM resilience_claims c WHERE c.build_id = b.id) AS claims,
              (SELECT count(*)::int FROM build_log_chunks l, jsonb_array_elements(l.lines) line WHERE l.build_id = b.id AND line->>'text' LIKE 'build #% started') AS started,
              (SELECT count(*)::int FROM build_log_chunks l, jsonb_array_elements(l.lines) line WHERE l.build_id = b.id AND line->>'text' LIKE 'resuming build%') AS resumed
       FROM builds b WHERE b.run_id = ANY($1::uuid[])`,
      [runIds],
    );
    expect(builds).toHaveLength(RUNS);
    expect(builds.filter((b) => b.status !== 'SUCCEEDED' || b.claims?.length !== 1 || b.started !== 1 || b.resumed !== 0)).toEqual([]);
    const byInstance = new Map<string, number>();
    for (const b of builds) byInstance.set(b.claims[0], (byInstance.get(b.claims[0]) ?? 0) + 1);
    expect([...byInstance.keys()].sort()).toEqual(['replicas', 'replicas-2']);

    // Executions: both instances made webhook calls.
    const byPid = new Map<string, number>();
    for (const pid of callers.values()) byPid.set(String(pid ?? 'unknown'), (byPid.get(String(pid ?? 'unknown')) ?? 0) + 1);
    const expectedPids = [platform.processes.executions, ...platform.replicas.executions].map((p) => String(p.child.pid));
    expect({ callers: [...byPid.keys()].sort() }).toEqual({ callers: expectedPids.sort() });
  }, 400_000);
});
