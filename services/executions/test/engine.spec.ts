import type { RunStatus } from '@pipewright/contracts';
import { MessageBus, type BusLogger } from '@pipewright/messaging';
import { connectTestNats, freePort, gql, hostPortOf, serviceQuery, startPlatform, waitFor, type TestPlatform } from '@pipewright/testing';
import { randomBytes } from 'node:crypto';
import { createClient } from 'graphql-ws';
import type { NatsConnection } from 'nats';
import WebSocket from 'ws';
import { HooksServer } from './hooks-server';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;
const TERMINAL: RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED'];

interface StageOut {
  refId: string;
  status: string;
  attempt: number;
  error: string | null;
  outputs: Record<string, unknown> | null;
  decision: { decision: string; value: string | null; comment: string | null; by: string } | null;
  startedAt: string | null;
  finishedAt: string | null;
}
interface RunOut {
  id: string;
  number: number;
  status: RunStatus;
  reason: string | null;
  stages: StageOut[];
}
const RUN_FIELDS = 'id number status reason parentRunId stages { refId status attempt error outputs decision { decision value comment by } startedAt finishedAt }';

describe('execution engine (real PostgreSQL, NATS, gateway, and an HTTP server for webhooks)', () => {
  let platform: TestPlatform;
  let dev: string;
  let approver: string;
  let nc: NatsConnection;
  let bus: MessageBus;
  const hooks = new HooksServer();
  /** Every run status event, in arrival order, per run. */
  const events = new Map<string, { status: RunStatus; sequence: number }[]>();
  const waiters: { runId: string; statuses: RunStatus[]; resolve: () => void }[] = [];
  let consumer: { stop(): Promise<void> };

  const ok = async <T>(query: string, variables?: Record<string, unknown>, token = dev): Promise<T> => {
    const res = await gql<T>(platform.gatewayUrl, query, { token, variables });
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data!;
  };
  const pipeline = async (stages: unknown[], extra: Record<string, unknown> = {}) =>
    (await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { name: unique('p'), stages, ...extra } })).createPipeline.id;
  const start = async (pipelineId: string, parameters?: Record<string, unknown>) =>
    (await ok<{ runPipeline: RunOut }>(`mutation($p: ID!, $params: JSON) { runPipeline(pipelineId: $p, parameters: $params) { ${RUN_FIELDS} } }`, { p: pipelineId, params: parameters })).runPipeline;
  const read = async (runId: string) => (await ok<{ run: RunOut }>(`query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`, { id: runId })).run;
  /** Resolves when the run reaches one of `statuses`, as its status-changed events say. */
  const reach = (runId: string, statuses: RunStatus[] = TERMINAL): Promise<RunOut> =>
    new Promise<void>((resolve) => {
      if ((events.get(runId) ?? []).some((e) => statuses.includes(e.status))) return resolve();
      waiters.push({ runId, statuses, resolve });
    }).then(() => read(runId));
  const stage = (run: RunOut, refId: string) => run.stages.find((s) => s.refId === refId)!;
  const hook = (refId: string, path: string, extra: Record<string, unknown> = {}, config: Record<string, unknown> = {}) => ({
    refId,
    name: refId,
    type: 'WEBHOOK',
    config: { url: `${hooks.url}${path}`, method: 'POST', body: { refId }, ...config },
    ...extra,
  });

  /** A loopback port nothing listens on, allowed (OUTBOUND_ALLOW) so that the connection itself is refused. */
  let refusedPort: number;

  beforeAll(async () => {
    await hooks.start();
    refusedPort = await freePort();
    // The test stands in for the builds service, so the real one runs no builds (API only).
    platform = await startPlatform('engine', {}, { builds: { BUILDS_MAX_PARALLEL: '0' } }, { outbound: [hostPortOf(hooks.url), `127.0.0.1:${refusedPort}`] });
    dev = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    approver = await platform.token({ sub: 'ana', roles: ['APPROVAL_ADMIN'] });
    nc = await connectTestNats('engine-spec');
    bus = new MessageBus(nc, platform.prefix, 'engine-spec', quiet);
    consumer = await bus.consume(['evt.executions.run.status-changed.v1'], { durable: 'engine-spec-runs', from: 'all' }, async (e) => {
      events.set(e.runId, [...(events.get(e.runId) ?? []), { status: e.status, sequence: e.sequence }]);
      for (const w of waiters.filter((w) => w.runId === e.runId && w.statuses.includes(e.status))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  afterAll(async () => {
    await consumer?.stop();
    await nc?.close();
    await platform?.stop();
    await hooks.stop();
  });

  it('runs the branches of a diamond in parallel and joins them', async () => {
    const tag = randomBytes(3).toString('hex');
    const id = await pipeline([
      hook('a', `/ok/${tag}`),
      hook('b', `/barrier/2/${tag}`, { dependsOn: ['a'] }),
      hook('c', `/barrier/2/${tag}`, { dependsOn: ['a'] }),
      hook('d', `/ok/${tag}-join`, { dependsOn: ['b', 'c'] }),
    ]);
    const run = await reach((await start(id)).id);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.stages.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    // b and c were answered only because both were in flight at once.
    expect(stage(run, 'b').outputs).toMatchObject({ body: { together: true } });
    const joinStart = Date.parse(stage(run, 'd').startedAt!);
    expect(joinStart).toBeGreaterThanOrEqual(Math.max(Date.parse(stage(run, 'b').finishedAt!), Date.parse(stage(run, 'c').finishedAt!)));
  });

  it('FAIL_PIPELINE fails the run and cancels what runs beside the failed stage', async () => {
    const id = await pipeline([hook('bad', '/status/404', {}, { failFastStatusCodes: [404] }), { refId: 'wait', name: 'wait', type: 'JUDGEMENT', config: {} }]);
    const r = await start(id);
    const run = await reach(r.id);
    expect(run.status).toBe('FAILED');
    expect(stage(run, 'bad')).toMatchObject({ status: 'FAILED', attempt: 1 });
    expect(stage(run, 'bad').error).toMatch(/answered 404, a fail-fast status: not retried/);
    expect(stage(run, 'wait').status).toBe('CANCELED');
    expect(run.reason).toMatch(/stage "bad" failed/);
  });

  it('CONTINUE records FAILED_CONTINUE and the run goes on to succeed', async () => {
    const id = await pipeline([hook('bad', '/status/400', { failurePolicy: 'CONTINUE' }, { failFastStatusCodes: [400] }), hook('after', '/ok/after', { dependsOn: ['bad'] })]);
    const run = await reach((await start(id)).id);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.stages.map((s) => [s.refId, s.status])).toEqual([
      ['bad', 'FAILED_CONTINUE'],
      ['after', 'SUCCEEDED'],
    ]);
  });

  it('STOP_BRANCH skips what is below the failed stage while the other branch finishes; the run FAILS', async () => {
    const id = await pipeline([
      hook('bad', '/status/400', { failurePolicy: 'STOP_BRANCH' }, { failFastStatusCodes: [400] }),
      hook('below', '/ok/below', { dependsOn: ['bad'] }),
      hook('other', '/ok/other'),
    ]);
    const run = await reach((await start(id)).id);
    expect(run.stages.map((s) => [s.refId, s.status])).toEqual([
      ['bad', 'FAILED'],
      ['below', 'SKIPPED'],
      ['other', 'SUCCEEDED'],
    ]);
    expect(run.status).toBe('FAILED');
  });

  it('times a stage out', async () => {
    const id = await pipeline([hook('slow', `/slow/${randomBytes(2).toString('hex')}`, { timeoutSeconds: 1 }, { timeoutSeconds: 60 })]);
    const run = await reach((await start(id)).id);
    expect(run.status).toBe('FAILED');
    expect(stage(run, 'slow').error).toMatch(/^timed out after 1 s/);
  });

  it('retries a stage that succeeds on the second try', async () => {
    const path = `/flaky/${randomBytes(3).toString('hex')}`;
    const id = await pipeline([hook('flaky', path, { retry: { maxAttempts: 2, backoffSeconds: 0 } })]);
    const run = await reach((await start(id)).id);
    expect(run.status).toBe('SUCCEEDED');
    expect(stage(run, 'flaky')).toMatchObject({ status: 'SUCCEEDED', attempt: 2 });
    expect(hooks.count(path)).toBe(2);
  });

  describe('webhook', () => {
    it('succeeds on 200 with the status, headers and parsed body as outputs', async () => {
      const id = await pipeline([hook('call', '/ok/200', {}, { body: { n: '${run.number}' } })]);
      const run = await reach((await start(id)).id);
      expect(stage(run, 'call').outputs).toMatchObject({ status: 200, body: { hello: 'world', method: 'POST', received: { n: 1 } }, headers: { 'content-type': 'application/json' } });
    });

    it('fails at once on a fail-fast status: one request seen', async () => {
      const path = `/status/404`;
      const before = hooks.count(path);
      const id = await pipeline([hook('call', path, {}, { failFastStatusCodes: [404] })]);
      const run = await reach((await start(id)).id);
      expect(stage(run, 'call')).toMatchObject({ status: 'FAILED', attempt: 1 });
      expect(hooks.count(path) - before).toBe(1);
    });

    it('retries a 503 and succeeds (three tries by default)', async () => {
      const path = `/flaky/${randomBytes(3).toString('hex')}`;
      const id = await pipeline([hook('call', path)]);
      const run = await reach((await start(id)).id);
      expect(stage(run, 'call')).toMatchObject({ status: 'SUCCEEDED', attempt: 2 });
      expect(hooks.count(path)).toBe(2);
    });

    it('fails after three tries when the connection is refused, saying so', async () => {
      const port = refusedPort; // nothing listens there
      const id = await pipeline([{ refId: 'call', name: 'call', type: 'WEBHOOK', config: { url: `http://127.0.0.1:${port}/hook` } }]);
      const run = await reach((await start(id)).id);
      expect(stage(run, 'call')).toMatchObject({ status: 'FAILED', attempt: 3 });
      expect(stage(run, 'call').error).toBe(`cannot reach http://127.0.0.1:${port}/hook: ECONNREFUSED (after 3 attempts)`);
    });

    it('fails when a slow server keeps hitting the webhook timeout', async () => {
      const path = `/slow/${randomBytes(3).toString('hex')}`;
      const id = await pipeline([hook('call', path, { retry: { maxAttempts: 2, backoffSeconds: 0 } }, { timeoutSeconds: 1 })]);
      const run = await reach((await start(id)).id);
      expect(stage(run, 'call')).toMatchObject({ status: 'FAILED', attempt: 2 });
      expect(stage(run, 'call').error).toMatch(/no answer from .* within 1 s \(timeout\) \(after 2 attempts\)/);
      expect(hooks.count(path)).toBe(2);
    });
  });

  it('queues a second run while a pipeline limited to one run is busy', async () => {
    const id = await pipeline([{ refId: 'gate', name: 'gate', type: 'JUDGEMENT', config: {} }], { maxConcurrentRuns: 1 });
    const first = await start(id);
    await reach(first.id, ['WAITING']);
    const second = await start(id);
    expect(second.status).toBe('QUEUED');
    expect((await read(second.id)).status).toBe('QUEUED');
    await ok(`mutation($r: ID!) { judge(runId: $r, refId: "gate", decision: CONTINUE) { status } }`, { r: first.id });
    expect((await reach(first.id)).status).toBe('SUCCEEDED');
    await reach(second.id, ['WAITING']);
    await ok(`mutation($r: ID!) { judge(runId: $r, refId: "gate", decision: CONTINUE) { status } }`, { r: second.id });
    expect((await reach(second.id)).status).toBe('SUCCEEDED');
    expect(events.get(second.id)!.map((e) => e.status)).toEqual(['QUEUED', 'RUNNING', 'WAITING', 'SUCCEEDED']);
  });

  describe('judgement, precondition and approval', () => {
    const graph = [
      { refId: 'judge', name: 'Roll back?', type: 'JUDGEMENT', config: { options: ['rollback', 'keep'] } },
      { refId: 'if-rollback', name: 'if rollback', type: 'PRECONDITION', dependsOn: ['judge'], config: { judgementRefId: 'judge', values: ['rollback'], mode: 'MATCHED' } },
      { refId: 'rollback', name: 'rollback', type: 'WEBHOOK', dependsOn: ['if-rollback'], config: { url: 'http://placeholder' } },
      { refId: 'if-keep', name: 'if keep', type: 'PRECONDITION', dependsOn: ['judge'], config: { judgementRefId: 'judge', values: ['rollback'], mode: 'UNMATCHED' } },
      { refId: 'keep', name: 'keep', type: 'WEBHOOK', dependsOn: ['if-keep'], config: { url: 'http://placeholder' } },
    ];

    it('CONTINUE with a value runs the MATCHED branch and skips the UNMATCHED one', async () => {
      const stages = graph.map((s) => (s.type === 'WEBHOOK' ? { ...s, config: { url: `${hooks.url}/ok/${s.refId}` } } : s));
      const id = await pipeline(stages);
      const r = await start(id);
      const waitingRun = await reach(r.id, ['WAITING']);
      expect(stage(waitingRun, 'judge').status).toBe('WAITING');
      const badValue = await gql(platform.gatewayUrl, `mutation($r: ID!) { judge(runId: $r, refId: "judge", decision: CONTINUE, value: "maybe") { status } }`, { token: dev, variables: { r: r.id } });
      expect(badValue.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value' });
      const judged = await ok<{ judge: StageOut }>(`mutation($r: ID!) { judge(runId: $r, refId: "judge", decision: CONTINUE, value: "rollback") { status outputs decision { decision value by } } }`, { r: r.id });
      expect(judged.judge).toMatchObject({ status: 'SUCCEEDED', outputs: { value: 'rollback', judgedBy: 'dee' }, decision: { decision: 'CONTINUE', value: 'rollback', by: 'dee' } });
      const run = await reach(r.id);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.stages.map((s) => [s.refId, s.status])).toEqual([
        ['judge', 'SUCCEEDED'],
        ['if-rollback', 'SUCCEEDED'],
        ['rollback', 'SUCCEEDED'],
        ['if-keep', 'SUCCEEDED'],
        ['keep', 'SKIPPED'],
      ]);
      expect(stage(run, 'if-keep').outputs).toEqual({ holds: false, value: 'rollback', mode: 'UNMATCHED' });
    });

    it('STOP ends the run STOPPED', async () => {
      const id = await pipeline(graph);
      const r = await start(id);
      await reach(r.id, ['WAITING']);
      await ok(`mutation($r: ID!) { judge(runId: $r, refId: "judge", decision: STOP) { status } }`, { r: r.id });
      const run = await reach(r.id);
      expect(run.status).toBe('STOPPED');
      expect(run.reason).toBe('stopped at "judge" by dee');
      expect(stage(run, 'rollback').status).toBe('SKIPPED');
    });

    it('lets only an APPROVAL_ADMIN approve, and records who', async () => {
      const id = await pipeline([{ refId: 'approve', name: 'Approve', type: 'APPROVAL', config: { message: 'Ship it?' } }]);
      const r = await start(id);
      await reach(r.id, ['WAITING']);
      const denied = await gql(platform.gatewayUrl, `mutation($r: ID!) { approve(runId: $r, refId: "approve", decision: CONTINUE) { status } }`, { token: dev, variables: { r: r.id } });
      expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const approved = await ok<{ approve: StageOut }>(`mutation($r: ID!) { approve(runId: $r, refId: "approve", decision: CONTINUE, comment: "lgtm") { status decision { decision comment by } } }`, { r: r.id }, approver);
      expect(approved.approve).toEqual({ status: 'SUCCEEDED', decision: { decision: 'CONTINUE', comment: 'lgtm', by: 'ana' } });
      expect((await reach(r.id)).status).toBe('SUCCEEDED');
    });
  });

  describe('run pipeline', () => {
    it('waits for the child run and ends with its outcome', async () => {
      const child = await pipeline([{ refId: 'gate', name: 'gate', type: 'JUDGEMENT', config: {} }], { parameters: [{ name: 'env', required: true }] });
      const parent = await pipeline([{ refId: 'child', name: 'child', type: 'RUN_PIPELINE', config: { pipelineId: child, parameters: { env: 'prod' }, waitForCompletion: true } }]);
      const r = await start(parent);
      const running = await waitForStageOutput(r.id, 'child');
      const childRunId = running as string;
      await reach(childRunId, ['WAITING']);
      await ok(`mutation($r: ID!) { judge(runId: $r, refId: "gate", decision: CONTINUE) { status } }`, { r: childRunId });
      const run = await reach(r.id);
      expect(run.status).toBe('SUCCEEDED');
      expect(stage(run, 'child').outputs).toEqual({ childRunId, childStatus: 'SUCCEEDED' });
    });

    it('without waiting, succeeds once the child starts; cancelling a parent cancels its child', async () => {
      const child = await pipeline([{ refId: 'gate', name: 'gate', type: 'JUDGEMENT', config: {} }]);
      const fire = await pipeline([{ refId: 'child', name: 'child', type: 'RUN_PIPELINE', config: { pipelineId: child, waitForCompletion: false } }]);
      const fired = await reach((await start(fire)).id);
      expect(fired.status).toBe('SUCCEEDED');
      expect((await read(stage(fired, 'child').outputs!.childRunId as string)).status).not.toBe('CANCELED');

      const waitParent = await pipeline([{ refId: 'child', name: 'child', type: 'RUN_PIPELINE', config: { pipelineId: child } }]);
      const p = await start(waitParent);
      const childRunId = (await waitForStageOutput(p.id, 'child')) as string;
      await reach(childRunId, ['WAITING']);
      const canceled = await ok<{ cancelRun: RunOut }>(`mutation($r: ID!) { cancelRun(runId: $r, reason: "changed my mind") { status reason } }`, { r: p.id });
      expect(canceled.cancelRun).toMatchObject({ status: 'CANCELED', reason: 'canceled by dee: changed my mind' });
      const childRun = await reach(childRunId);
      expect(childRun.status).toBe('CANCELED');
      expect(childRun.reason).toMatch(/parent run \d+ was canceled/);
    });
  });

  describe('parameters and expressions', () => {
    it('names a bad parameter, and evaluates expressions when the stage starts', async () => {
      const id = await pipeline([hook('call', '/ok/${parameters.env}', {}, { url: `${hooks.url}/ok/\${parameters.env}` })], {
        parameters: [{ name: 'env', required: true, options: ['staging', 'prod'] }],
      });
      const missing = await gql(platform.gatewayUrl, `mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }`, { token: dev, variables: { p: id } });
      expect(missing.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parameters.env' });
      expect(missing.errors?.[0].message).toBe('parameters.env is required (one of staging, prod)');
      const wrong = await gql(platform.gatewayUrl, `mutation($p: ID!) { runPipeline(pipelineId: $p, parameters: { env: "qa", extra: 1 }) { id } }`, { token: dev, variables: { p: id } });
      expect((wrong.errors?.[0].extensions?.problems as { field: string }[]).map((p) => p.field).sort()).toEqual(['parameters.env', 'parameters.extra']);

      const before = hooks.count('/ok/prod');
      const run = await reach((await start(id, { env: 'prod' })).id);
      expect(run.status).toBe('SUCCEEDED');
      expect(hooks.count('/ok/prod') - before).toBe(1);
    });

    it('fails a stage whose expression cannot be resolved, naming it', async () => {
      const id = await pipeline([hook('call', '/ok/x', {}, { url: `${hooks.url}/ok/\${stages.build.outputs.image}` })]);
      const run = await reach((await start(id)).id);
      expect(stage(run, 'call').status).toBe('FAILED');
      expect(stage(run, 'call').error).toBe('stages.call.config.url: ${stages.build.outputs.image} cannot be resolved: "stages" has no "build" (it has call)');
    });
  });

  it('streams a run over a gateway subscription: current state first, then each change, with a pipelines field', async () => {
    const name = unique('watched');
    const id = (await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, {
      i: {
        name,
        stages: [
          { refId: 'gate', name: 'gate', type: 'JUDGEMENT', config: {} },
          // A quick chain: its states follow each other faster than they can be queried.
          hook('after', '/ok/watched', { dependsOn: ['gate'] }),
          hook('then', '/ok/watched', { dependsOn: ['after'] }),
          hook('last', '/ok/watched', { dependsOn: ['then'] }),
        ],
      },
    })).createPipeline.id;
    const r = await start(id);
    await reach(r.id, ['WAITING']);
    const queriesBefore = await subscriptionQueries('event');
    type Update = { status: string; sequence: number; pipeline: { name: string }; stages: { refId: string; status: string }[] };
    const updates: Update[] = [];
    const clients = [0, 1, 2].map(() => createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${dev}` }, retryAttempts: 0 }));
    const seenBy = clients.map(() => [] as Update[]);
    let firstArrived!: () => void;
    const first = new Promise<void>((res) => (firstArrived = res));
    let finished!: () => void;
    const done = new Promise<void>((res) => (finished = res));
    const query = `subscription($id: ID!) { runUpdated(runId: $id) { status sequence pipeline { name } stages { refId status } } }`;
    // A fourth subscriber with another selection: a second group, with queries of its own.
    const other: { status: string; sequence: number }[] = [];
    const otherClient = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${dev}` }, retryAttempts: 0 });
    const stopOther = otherClient.subscribe<{ runUpdated: { status: string; sequence: number } }>(
      { query: `subscription($id: ID!) { runUpdated(runId: $id) { status sequence } }`, variables: { id: r.id } },
      { next: (v) => void other.push(v.data!.runUpdated), error: () => undefined, complete: () => undefined },
    );
    const unsubscribe = clients.map((client, i) =>
      client.subscribe<{ runUpdated: Update }>({ query, variables: { id: r.id } }, {
        next: (v) => {
          if (v.errors) throw new Error(JSON.stringify(v.errors));
          seenBy[i].push(v.data!.runUpdated);
          if (i === 0) {
            updates.push(v.data!.runUpdated);
            if (updates.length === 1) firstArrived();
            if (v.data!.runUpdated.status === 'SUCCEEDED') finished();
          }
        },
        error: (e) => {
          throw e;
        },
        complete: () => undefined,
      }),
    );
    try {
      await first;
      await Promise.all(seenBy.map((seen, i) => waitFor(`subscriber ${i}'s current state`, () => seen.length > 0)));
      await waitFor('the other selection\'s current state', () => other.length > 0);
      expect(updates[0]).toMatchObject({ status: 'WAITING', pipeline: { name }, stages: [{ refId: 'gate', status: 'WAITING' }, { refId: 'after', status: 'NOT_STARTED' }, { status: 'NOT_STARTED' }, { status: 'NOT_STARTED' }] });
      await ok(`mutation($r: ID!) { judge(runId: $r, refId: "gate", decision: CONTINUE) { status } }`, { r: r.id });
      await done;
      const last = updates[updates.length - 1];
      expect(last).toMatchObject({ status: 'SUCCEEDED', pipeline: { name }, stages: [{ status: 'SUCCEEDED' }, { status: 'SUCCEEDED' }, { status: 'SUCCEEDED' }, { status: 'SUCCEEDED' }] });
      // Every state, none merged away: the sequences run without a gap from the first to the last.
      const sequences = updates.map((u) => u.sequence);
      const firstSequence = sequences[0];
      expect(sequences).toEqual(Array.from({ length: last.sequence - firstSequence + 1 }, (_, i) => firstSequence + i));
      // Each stage passes through RUNNING and SUCCEEDED in the states delivered.
      for (const refId of ['after', 'then', 'last']) {
        const statuses = updates.map((u) => u.stages.find((st) => st.refId === refId)!.status).filter((st, i, all) => st !== all[i - 1]);
        expect(statuses).toEqual(['NOT_STARTED', 'RUNNING', 'SUCCEEDED']);
      }
      const order = ['WAITING', 'RUNNING', 'SUCCEEDED'];
      const ranks = updates.map((u) => order.indexOf(u.status));
      expect([...ranks].sort((a, b) => a - b)).toEqual(ranks); // never backwards
      const { run: now } = await ok<{ run: { sequence: number } }>(`query($id: ID!) { run(id: $id) { sequence } }`, { id: r.id });
      expect(last.sequence).toBe(now.sequence);
      // Every subscriber of the same selection got the same final state.
      await Promise.all(seenBy.map((seen, i) => waitFor(`subscriber ${i} to see SUCCEEDED`, () => seen.at(-1)?.status === 'SUCCEEDED')));
      for (const seen of seenBy) expect(seen).toEqual(updates);
      await waitFor('the other selection to see SUCCEEDED', () => other.at(-1)?.status === 'SUCCEEDED');
      expect(other.map((u) => u.sequence)).toEqual(sequences);
      // One query per distinct selection per state: two groups, each resolving every state after the first once.
      expect((await subscriptionQueries('event')) - queriesBefore).toBe(2 * (last.sequence - firstSequence));
    } finally {
      unsubscribe.forEach((u) => u());
      stopOther();
      await Promise.all([...clients, otherClient].map((c) => c.dispose()));
    }
  });

  it('sends build stages to the builds service and completes them on its events; cancel reaches the build', async () => {
    const admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    const tool = (await gql<{ createBuildTool: { id: string } }>(platform.gatewayUrl, `mutation { createBuildTool(input: { name: "${unique('jenkins')}", url: "https://ci.example.com" }) { id } }`, { token: admin })).data!.createBuildTool.id;
    const id = await pipeline([
      { refId: 'ci', name: 'CI', type: 'BUILD_JENKINS', config: { buildToolId: tool, job: 'app-${parameters.env}' }, endCondition: { artifacts: [{ name: 'build', from: 'buildNumber' }] } },
      hook('after', '/ok/x', { dependsOn: ['ci'] }, { url: `${hooks.url}/ok/build-\${artifacts.build}` }),
    ], { parameters: [{ name: 'env', default: 'prod' }] });

    // The test stands in for the builds service (started with BUILDS_MAX_PARALLEL=0 above).
    const commands: { buildRequestId: string; runId: string; stageType: string; config: Record<string, unknown>; runNumber: number }[] = [];
    const cancels: { buildRequestId: string; reason: string }[] = [];
    const answers: ((c: (typeof commands)[number]) => Promise<void>)[] = [];
    const started: (() => void)[] = [];
    const builds = await bus.consume(['cmd.builds.build.start.v1'], { durable: 'spec-builds-start', from: 'all' }, async (c) => {
      commands.push(c);
      started.shift()?.();
      await answers.shift()?.(c);
    });
    const cancelled = new Promise<void>((resolve) => {
      void bus.consume(['cmd.builds.build.cancel.v1'], { durable: 'spec-builds-cancel', from: 'all' }, async (c) => {
        cancels.push(c);
        resolve();
      });
    });
    const finish = (status: 'SUCCEEDED' | 'FAILED', outputs: Record<string, unknown>, error: string | null) => async (c: (typeof commands)[number]) => {
      await bus.publish('evt.builds.build.finished.v1', { buildRequestId: c.buildRequestId, runId: c.runId, refId: 'ci', status, outputs, error, buildId: 'b-1' });
    };
    try {
      answers.push(finish('SUCCEEDED', { buildNumber: 7 }, null));
      const good = await reach((await start(id)).id);
      expect(good.status).toBe('SUCCEEDED');
      expect(commands[0]).toMatchObject({ stageType: 'BUILD_JENKINS', runNumber: 1, config: { buildToolId: tool, job: 'app-prod', waitForCompletion: true } });
      expect(stage(good, 'ci').outputs).toEqual({ buildNumber: 7, buildId: 'b-1' });
      expect(hooks.count('/ok/build-7')).toBe(1);

      answers.push(finish('FAILED', {}, 'Jenkins build #8 ended FAILURE'));
      const bad = await reach((await start(id)).id);
      expect(bad.status).toBe('FAILED');
      expect(stage(bad, 'ci').error).toBe('Jenkins build #8 ended FAILURE');

      const buildStarted = new Promise<void>((r) => started.push(r));
      const held = await start(id);
      await buildStarted;
      await ok(`mutation($r: ID!) { cancelRun(runId: $r) { status } }`, { r: held.id });
      await cancelled;
      expect(cancels[0]).toEqual({ buildRequestId: commands[2].buildRequestId, reason: 'canceled by dee' });
      expect(stage(await read(held.id), 'ci').status).toBe('CANCELED');
    } finally {
      await builds.stop();
    }
  });

  it('skips or fails a stage whose start condition names a missing artifact', async () => {
    const id = await pipeline([
      hook('skip-me', '/ok/never', { startCondition: { artifacts: ['manifest'], onMissing: 'SKIP' } }),
      hook('fail-me', '/ok/never', { startCondition: { artifacts: ['manifest', 'image'], onMissing: 'FAIL' }, failurePolicy: 'CONTINUE' }),
    ]);
    const run = await reach((await start(id)).id);
    expect(stage(run, 'skip-me')).toMatchObject({ status: 'SKIPPED', error: 'start condition: artifact(s) manifest missing' });
    expect(stage(run, 'fail-me')).toMatchObject({ status: 'FAILED_CONTINUE', error: 'start condition: artifact(s) manifest, image missing' });
    expect(hooks.count('/ok/never')).toBe(0);
  });

  it('streams every run of a pipeline with runsUpdated, and skips what a reconnecting subscriber already saw', async () => {
    const id = await pipeline([{ refId: 'gate', name: 'gate', type: 'JUDGEMENT', config: {} }]);
    const url = platform.gatewayUrl.replace(/^http/, 'ws');
    const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${dev}` }, retryAttempts: 0 });
    const seen: { id: string; status: string; sequence: number }[] = [];
    const waitersFor: { test: () => boolean; resolve: () => void }[] = [];
    const until = (test: () => boolean) => new Promise<void>((resolve) => (test() ? resolve() : waitersFor.push({ test, resolve })));
    const stop = client.subscribe<{ runsUpdated: { id: string; status: string; sequence: number } }>(
      { query: `subscription($p: ID!) { runsUpdated(pipelineId: $p) { id status sequence } }`, variables: { p: id } },
      {
        next: (v) => {
          seen.push(v.data!.runsUpdated);
          for (const w of waitersFor.filter((w) => w.test())) {
            waitersFor.splice(waitersFor.indexOf(w), 1);
            w.resolve();
          }
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
    try {
      // Let the subscription register before the first event (the gateway answers a query over the same socket after it).
      await new Promise<void>((resolve, reject) => client.subscribe({ query: '{ executionsInfo { service } }' }, { next: () => undefined, error: reject, complete: resolve }));
      const a = await start(id);
      const b = await start(id);
      await until(() => [a.id, b.id].every((r) => seen.some((u) => u.id === r && u.status === 'WAITING')));
      // Every state of each run, in order, none merged away.
      for (const r of [a.id, b.id]) expect(seen.filter((u) => u.id === r).map((u) => u.sequence)).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(seen.map((u) => u.id))).toEqual(new Set([a.id, b.id]));

      // A subscriber that reconnects with the last sequence it saw gets nothing until the run moves on.
      const { run: now } = await ok<{ run: { sequence: number } }>(`query($id: ID!) { run(id: $id) { sequence } }`, { id: a.id });
      // One that saw less is replayed each state it missed, from the run's history, in order.
      const replayed = await collectRunUpdates(client, b.id, 0, (u) => u.status === 'WAITING');
      const { run: bNow } = await ok<{ run: { sequence: number; status: string } }>(`query($id: ID!) { run(id: $id) { sequence status } }`, { id: b.id });
      expect(replayed.map((u) => u.sequence)).toEqual(Array.from({ length: bNow.sequence }, (_, i) => i + 1));
      expect(replayed.map((u) => u.status).filter((st, i, all) => st !== all[i - 1])).toEqual(['QUEUED', 'RUNNING', 'WAITING']);
      const again: { status: string; sequence: number }[] = [];
      let resolveMoved!: () => void;
      const moved = new Promise<void>((r) => (resolveMoved = r));
      const stopAgain = client.subscribe<{ runUpdated: { status: string; sequence: number } }>(
        { query: `subscription($id: ID!, $after: Int) { runUpdated(runId: $id, afterSequence: $after) { status sequence } }`, variables: { id: a.id, after: now.sequence } },
        {
          next: (v) => {
            again.push(v.data!.runUpdated);
            if (v.data!.runUpdated.status === 'SUCCEEDED') resolveMoved();
          },
          error: () => undefined,
          complete: () => undefined,
        },
      );
      await ok(`mutation($r: ID!) { judge(runId: $r, refId: "gate", decision: CONTINUE) { status } }`, { r: a.id });
      await moved;
      stopAgain();
      // Nothing it had seen again: the states after it, each once, in order.
      expect(again.map((u) => u.sequence)).toEqual(Array.from({ length: again.length }, (_, i) => now.sequence + 1 + i));
      expect(again.at(-1)!.status).toBe('SUCCEEDED');
    } finally {
      stop();
      await client.dispose();
    }
  });

  it('numbers runs per pipeline and emits each run event once, in sequence order', async () => {
    const id = await pipeline([hook('a', '/ok/seq')]);
    const runs = [await start(id), await start(id)];
    expect(runs.map((r) => r.number)).toEqual([1, 2]);
    for (const r of runs) {
      await reach(r.id);
      const seen = events.get(r.id)!;
      expect(seen.map((e) => e.status)).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
      const sequences = seen.map((e) => e.sequence);
      expect([...sequences].sort((x, y) => x - y)).toEqual(sequences);
      expect(new Set(sequences).size).toBe(sequences.length);
    }
  });

  /** Subscribes to runUpdated(afterSequence) until `until` holds for an update; returns what arrived. */
  function collectRunUpdates(client: ReturnType<typeof createClient>, runId: string, afterSequence: number, until: (u: { status: string; sequence: number }) => boolean) {
    const seen: { status: string; sequence: number }[] = [];
    return new Promise<typeof seen>((resolve, reject) => {
      const stop = client.subscribe<{ runUpdated: { status: string; sequence: number } }>(
        { query: `subscription($id: ID!, $after: Int) { runUpdated(runId: $id, afterSequence: $after) { status sequence } }`, variables: { id: runId, after: afterSequence } },
        {
          next: (v) => {
            if (v.errors) return reject(new Error(JSON.stringify(v.errors)));
            seen.push(v.data!.runUpdated);
            if (until(v.data!.runUpdated)) {
              stop();
              resolve(seen);
            }
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
  }

  /** The gateway's count of supergraph queries made for runUpdated subscriptions. */
  async function subscriptionQueries(kind: 'initial' | 'event'): Promise<number> {
    const text = await (await fetch(platform.gatewayUrl.replace(/\/graphql$/, '/metrics'))).text();
    const line = text.split('\n').find((l) => l.startsWith('pipewright_gateway_subscription_queries_total{') && l.includes('field="runUpdated"') && l.includes(`kind="${kind}"`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  }

  /** The child run id a RUN_PIPELINE stage records, once it has started one. */
  async function waitForStageOutput(runId: string, refId: string): Promise<unknown> {
    return waitFor(`stage ${refId} of run ${runId} to start its child`, async () => {
      const [row] = await serviceQuery<{ id: string | null }>(platform, 'executions', `SELECT state->>'childRunId' AS id FROM stage_runs WHERE run_id = $1 AND ref_id = $2`, [runId, refId]);
      return row?.id ?? undefined;
    });
  }
});
