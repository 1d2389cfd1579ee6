// Build and child-run stages when the engine halts, retries, times out or restarts them: the whole
// platform with the real builds service running real builds (git server, buildah, registry), and an
// HTTP server of the test's own that the build commands (wget) and webhooks call.
import type { RunStatus } from '@pipewright/contracts';
import { MessageBus, type BusLogger } from '@pipewright/messaging';
import { connectTestNats, createGitRepository, gql, hostPortOf, startOutsideHost, startPlatform, testEnv, type OutsideHost, type TestPlatform, type TestRepository } from '@pipewright/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const tag = () => randomBytes(3).toString('hex');
const TERMINAL: RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED'];

interface StageOut {
  refId: string;
  status: string;
  attempt: number;
  error: string | null;
  outputs: Record<string, unknown> | null;
  restartedBy: string | null;
}
interface RunOut {
  id: string;
  number: number;
  status: RunStatus;
  reason: string | null;
  sequence: number;
  parentRunId: string | null;
  stages: StageOut[];
}
interface BuildOut {
  id: string;
  number: number;
  status: string;
  error: string | null;
}
const RUN_FIELDS = 'id number status reason sequence parentRunId stages { refId status attempt error outputs restartedBy }';

/**
 * What the build commands and webhooks call. `/ok/...` answers 200; `/flaky/...` 500 on its first
 * call and 200 after; `/hold/...` keeps the call open until `release(path, status)`.
 * `arrived(path)` resolves at a path's first call, `closed(path)` once the caller of a held call
 * has gone (its process was stopped).
 */
class GateServer {
  url = '';
  private server!: Server;
  private readonly calls = new Map<string, number>();
  private readonly held = new Map<string, ServerResponse[]>();
  private readonly released = new Map<string, number>();
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];
  private readonly gone = new Set<string>();

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    // On every address: builds reach it through the outside host (their network is sandboxed), webhooks on loopback.
    await new Promise<void>((r) => this.server.listen(0, '0.0.0.0', r));
    this.url = `http://127.0.0.1:${this.port}`;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  count(path: string): number {
    return this.calls.get(path) ?? 0;
  }

  arrived(path: string): Promise<void> {
    return this.until(() => this.count(path) > 0);
  }

  closed(path: string): Promise<void> {
    return this.until(() => this.gone.has(path));
  }

  /** Answers the calls held on `path` (and later ones at once) with `status`. */
  release(path: string, status = 200): void {
    this.released.set(path, status);
    for (const res of this.held.get(path) ?? []) this.answer(res, status);
    this.held.delete(path);
  }

  private until(test: () => boolean): Promise<void> {
    return new Promise((resolve) => (test() ? resolve() : this.waiters.push({ test, resolve })));
  }

  private changed() {
    for (const w of this.waiters.filter((w) => w.test())) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  private answer(res: ServerResponse, status: number) {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    for await (const _chunk of req); // the body is not needed
    this.calls.set(path, this.count(path) + 1);
    const kind = path.split('/')[1];
    if (kind === 'hold' && !this.released.has(path)) {
      this.held.set(path, [...(this.held.get(path) ?? []), res]);
      res.once('close', () => {
        if (!res.writableEnded) this.gone.add(path);
        this.changed();
      });
    } else if (kind === 'hold') this.answer(res, this.released.get(path)!);
    else if (kind === 'flaky') this.answer(res, this.count(path) === 1 ? 500 : 200);
    else if (kind === 'ok') this.answer(res, 200);
    else this.answer(res, 404);
    this.changed();
  }
}

/** Fails after `ms` saying what it waited for (a promise fed by events has no timeout of its own). */
async function within<T>(ms: number, what: () => string | Promise<string>, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => void Promise.resolve(what()).then((w) => reject(new Error(`timed out after ${ms} ms waiting for ${w}`)), reject), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('build and child-run stages on retry, halt, timeout and restart (real builds service, git, buildah, registry)', () => {
  let platform: TestPlatform;
  let admin: string;
  let dev: string;
  let workspaces: string;
  /** Where the builds (sandboxed) reach the server: a host outside, in a network namespace of the test's. */
  let outside: OutsideHost;
  let buildUrl: string;
  let repo: TestRepository;
  let nc: NatsConnection;
  const server = new GateServer();
  const env: Record<string, string> = {};
  /** Every run status event, in arrival order (with its pipeline, to find a child run). */
  const runEvents: { runId: string; pipelineId: string; status: RunStatus; sequence: number; reason: string | null }[] = [];
  /** Every finished build, by build id. */
  const finishedBuilds = new Map<string, { status: string; error: string | null; refId: string; runId: string }>();
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  const consumers: { stop(): Promise<void> }[] = [];
  const until = (test: () => boolean) => new Promise<void>((resolve) => (test() ? resolve() : waiters.push({ test, resolve })));
  const notify = () => {
    for (const w of waiters.filter((w) => w.test())) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };

  const ok = async <T>(query: string, variables?: Record<string, unknown>, token = dev): Promise<T> => {
    const res = await gql<T>(platform.gatewayUrl, query, { token, variables });
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data!;
  };
  const create = async (kind: string, input: Record<string, unknown>) =>
    (await ok<Record<string, { id: string }>>(`mutation($i: Create${kind}Input!) { create${kind}(input: $i) { id } }`, { i: { name: `${kind.toLowerCase()}-${tag()}`, ...input } }, admin))[`create${kind}`].id;
  const pipeline = async (stages: unknown[]) =>
    (await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { name: `halts-${tag()}`, stages } })).createPipeline.id;
  const start = async (pipelineId: string) => (await ok<{ runPipeline: RunOut }>(`mutation($p: ID!) { runPipeline(pipelineId: $p) { ${RUN_FIELDS} } }`, { p: pipelineId })).runPipeline;
  const read = async (runId: string) => (await ok<{ run: RunOut }>(`query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`, { id: runId })).run;
  const stage = (run: RunOut, refId: string) => run.stages.find((s) => s.refId === refId)!;
  const describeRun = async (runId: string) => {
    const r = await read(runId);
    return `run ${runId}: ${r.status} (${r.reason ?? 'no reason'}); ${r.stages.map((s) => `${s.refId} ${s.status} #${s.attempt}${s.error ? ` (${s.error})` : ''}`).join('; ')}`;
  };
  /** The run once a status event says it reached one of `statuses` after event `afterSequence`. */
  const reach = async (runId: string, statuses: RunStatus[] = TERMINAL, afterSequence = 0, ms = 150_000): Promise<RunOut> => {
    await within(
      ms,
      async () => `${statuses.join('/')} after sequence ${afterSequence}; now ${await describeRun(runId)}`,
      until(() => runEvents.some((e) => e.runId === runId && e.sequence > afterSequence && statuses.includes(e.status))),
    );
    return read(runId);
  };
  /** The id of the run of `pipelineId` (a child) once it reached `status`. */
  const childRun = async (pipelineId: string, status: RunStatus) => {
    const found = () => runEvents.find((e) => e.pipelineId === pipelineId && e.status === status);
    await within(60_000, () => `a run of pipeline ${pipelineId} to reach ${status}`, until(() => !!found()));
    return found()!.runId;
  };
  const buildFinished = (buildId: string) =>
    within(120_000, () => `build ${buildId} to finish`, until(() => finishedBuilds.has(buildId))).then(() => finishedBuilds.get(buildId)!);
  /** The builds a stage of a run made, newest first. */
  const buildsOf = async (runId: string, refId: string) =>
    (await ok<{ builds: { totalCount: number; edges: { node: BuildOut }[] } }>(`query($r: ID!, $s: ID!) { builds(runId: $r, stageRefId: $s, first: 10) { totalCount edges { node { id number status error } } } }`, { r: runId, s: refId })).builds.edges.map((e) => e.node);

  beforeAll(async () => {
    await server.start();
    outside = await startOutsideHost();
    buildUrl = await outside.forward(server.port);
    workspaces = mkdtempSync(join(tmpdir(), 'pw-stage-halts-spec-'));
    platform = await startPlatform('stage-halts', {}, {
      builds: { GIT_BIN: 'git', BUILDAH_BIN: testEnv('BUILDAH_BIN'), BUILD_WORKSPACE_DIR: workspaces, BUILDS_INSTANCE_ID: 'stage-halts-spec', BUILDS_MAX_PARALLEL: '4' },
    }, { outbound: [hostPortOf(server.url)] });
    admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    dev = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    nc = await connectTestNats('stage-halts-spec');
    const bus = new MessageBus(nc, platform.prefix, 'stage-halts-spec', quiet);
    consumers.push(
      await bus.consume(['evt.executions.run.status-changed.v1'], { durable: 'stage-halts-runs', from: 'all' }, async (e) => {
        runEvents.push({ runId: e.runId, pipelineId: e.pipelineId, status: e.status, sequence: e.sequence, reason: e.reason });
        notify();
      }),
      await bus.consume(['evt.builds.build.finished.v1'], { durable: 'stage-halts-builds', from: 'all' }, async (e) => {
        if (e.buildId) finishedBuilds.set(e.buildId, { status: e.status, error: e.error, refId: e.refId, runId: e.runId });
        notify();
      }),
    );
    repo = await createGitRepository(`stage-halts-${tag()}`, {
      Dockerfile: `ARG BASE_IMAGE=${testEnv('BASE_IMAGE')}\nFROM \${BASE_IMAGE}\nCOPY marker.txt /marker.txt\n`,
      'marker.txt': 'stage halts\n',
    });
    env.repo = await create('SourceRepository', { provider: 'GITHUB', url: repo.url, defaultBranch: 'main', token: testEnv('GIT_TOKEN') });
    env.registry = await create('ImageRegistry', { url: testEnv('REGISTRY_URL'), namespace: `halts-${tag()}`, insecure: true });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await nc?.close();
    await platform?.stop();
    await server.stop();
    await outside?.stop();
    repo?.remove();
    if (workspaces) rmSync(workspaces, { recursive: true, force: true });
  });

  /** A hosted build of this suite's repository (no Source stage needed), running `buildCommand` first. */
  const hosted = (refId: string, buildCommand: string, extra: Record<string, unknown> = {}) => ({
    refId,
    name: refId,
    type: 'BUILD_HOSTED',
    config: { buildImage: testEnv('BASE_IMAGE'), registryId: env.registry, imageName: `app-${refId}`, repositoryId: env.repo, branch: 'main', buildCommand },
    ...extra,
  });
  const wget = (path: string) => `echo calling ${path}; wget -q -O /dev/null ${buildUrl}${path}`;
  const buildIdOf = (s: StageOut) => String((s.outputs as { buildId?: string } | null)?.buildId);

  it('retries a failed build: a hosted build that fails, then passes, and a Source stage on a missing branch, each built twice', async () => {
    const flaky = `/flaky/${tag()}`;
    const id = await pipeline([
      hosted('build', wget(flaky), { retry: { maxAttempts: 2, backoffSeconds: 1 } }),
      { refId: 'source', name: 'source', type: 'SOURCE_GITHUB', config: { repositoryId: env.repo, branch: 'no-such-branch' }, retry: { maxAttempts: 2, backoffSeconds: 1 }, failurePolicy: 'CONTINUE' },
    ]);
    const run = await reach((await start(id)).id);
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'SUCCEEDED', reason: null });

    // The hosted build: attempt 1's build failed on the 500, attempt 2's passed; the stage took the second.
    expect(server.count(flaky)).toBe(2);
    const builds = await buildsOf(run.id, 'build');
    expect(builds.map((b) => b.status)).toEqual(['SUCCEEDED', 'FAILED']);
    expect(builds[1].error).toMatch(/the build command exited with code 1/);
    expect(stage(run, 'build')).toMatchObject({ status: 'SUCCEEDED', attempt: 2, error: null });
    expect(buildIdOf(stage(run, 'build'))).toBe(builds[0].id);

    // The Source stage failed both times; its error says so (and CONTINUE let the run succeed).
    const sources = await buildsOf(run.id, 'source');
    expect(sources.map((b) => b.status)).toEqual(['FAILED', 'FAILED']);
    expect(stage(run, 'source')).toMatchObject({ status: 'FAILED_CONTINUE', attempt: 2 });
    expect(stage(run, 'source').error).toMatch(/has no branch "no-such-branch".*\(after 2 attempts\)$/s);
  }, 200_000);

  it('a FAIL_PIPELINE halt cancels the running build and the running child run', async () => {
    const t = tag();
    const gate = `/hold/build-${t}`;
    const fail = `/hold/fail-${t}`;
    const child = await pipeline([{ refId: 'gate', name: 'gate', type: 'JUDGEMENT', config: {} }]);
    const id = await pipeline([
      hosted('build', wget(gate)),
      { refId: 'child', name: 'child', type: 'RUN_PIPELINE', config: { pipelineId: child, waitForCompletion: true } },
      // Fails (fail-fast 400) only when the test lets it: once the build runs and the child waits.
      { refId: 'hook', name: 'hook', type: 'WEBHOOK', config: { url: `${server.url}${fail}`, failFastStatusCodes: [400], timeoutSeconds: 180 } },
    ]);
    const parent = await start(id);
    await within(120_000, async () => `the build command to call ${gate}; now ${await describeRun(parent.id)}`, server.arrived(gate));
    const childId = await childRun(child, 'WAITING');
    await within(60_000, () => `the webhook to call ${fail}`, server.arrived(fail));
    const [running] = await buildsOf(parent.id, 'build');
    expect(running.status).toBe('RUNNING');
    expect((await read(childId)).parentRunId).toBe(parent.id);

    server.release(fail, 400);
    const run = await reach(parent.id);
    expect(run.status).toBe('FAILED');
    expect(run.reason).toMatch(/^stage "hook" failed: .* answered 400, a fail-fast status: not retried/);
    expect(stage(run, 'hook')).toMatchObject({ status: 'FAILED', attempt: 1 });
    expect(stage(run, 'build')).toMatchObject({ status: 'CANCELED', error: 'canceled: stage "hook" failed; its build was told to stop' });
    expect(stage(run, 'child')).toMatchObject({ status: 'CANCELED', error: `canceled: stage "hook" failed; its child run ${childId} was canceled` });

    // The builds service stopped the build: it ends CANCELED and its command's connection is cut.
    const build = await buildFinished(running.id);
    expect(build).toMatchObject({ status: 'CANCELED', error: 'canceled: stage "hook" failed' });
    await within(30_000, () => `the build command's call to ${gate} to be cut`, server.closed(gate));
    expect((await buildsOf(parent.id, 'build'))[0]).toMatchObject({ id: running.id, status: 'CANCELED' });

    // The child run was cancelled, saying it was its parent's doing.
    const canceledChild = await reach(childId);
    expect(canceledChild.status).toBe('CANCELED');
    expect(canceledChild.reason).toBe(`parent run ${parent.number} was canceled (stage "hook" failed)`);
    expect(stage(canceledChild, 'gate').status).toBe('CANCELED');
  }, 200_000);

  it('a build stage that times out cancels its build', async () => {
    const gate = `/hold/slow-${tag()}`;
    const id = await pipeline([hosted('build', wget(gate), { timeoutSeconds: 5 })]);
    const run = await reach((await start(id)).id);
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'FAILED', reason: 'stage "build" failed: timed out after 5 s; its build was told to stop' });
    expect(stage(run, 'build')).toMatchObject({ status: 'FAILED', attempt: 1, error: 'timed out after 5 s; its build was told to stop' });
    const [build] = await buildsOf(run.id, 'build');
    expect(build).toBeDefined();
    // Cancelled running, or before it started when the builds service had not got to it in 5 s.
    const finished = await buildFinished(build.id);
    expect(finished).toMatchObject({ status: 'CANCELED', error: expect.stringMatching(/^canceled( before it started)?: timed out after 5 s$/) });
    // Whether the build got as far as its command in 5 s depends on the machine; if it did, the command was stopped.
    if (server.count(gate) > 0) await within(30_000, () => `the build command's call to ${gate} to be cut`, server.closed(gate));
  }, 120_000);

  it('restartStage runs a SOURCE, a BUILD_HOSTED and a RUN_PIPELINE stage again, each to SUCCEEDED with a new build or child run', async () => {
    const t = tag();
    const child = await pipeline([{ refId: 'call', name: 'call', type: 'WEBHOOK', config: { url: `${server.url}/ok/child-${t}` } }]);
    const id = await pipeline([
      { refId: 'source', name: 'source', type: 'SOURCE_GITHUB', config: { repositoryId: env.repo } },
      hosted('build', `echo building ${t}`),
      { refId: 'child', name: 'child', type: 'RUN_PIPELINE', config: { pipelineId: child, waitForCompletion: true } },
    ]);
    let run = await reach((await start(id)).id);
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'SUCCEEDED', reason: null });
    const first = { source: buildIdOf(stage(run, 'source')), build: buildIdOf(stage(run, 'build')), child: String(stage(run, 'child').outputs?.childRunId) };
    expect(server.count(`/ok/child-${t}`)).toBe(1);

    const restart = async (refId: string) => {
      const before = (await read(run.id)).sequence;
      await ok(`mutation($r: ID!, $s: ID!) { restartStage(runId: $r, refId: $s) { id } }`, { r: run.id, s: refId });
      run = await reach(run.id, TERMINAL, before);
      expect({ status: run.status, reason: run.reason }).toEqual({ status: 'SUCCEEDED', reason: null });
      expect(stage(run, refId)).toMatchObject({ status: 'SUCCEEDED', attempt: 1, restartedBy: 'dee' });
      return stage(run, refId);
    };

    // Each restart made its stage new work (a new build, a new child run) and left the others as they were.
    const source = await restart('source');
    expect(buildIdOf(source)).not.toBe(first.source);
    expect((await buildsOf(run.id, 'source')).map((b) => [b.id, b.status])).toEqual([[buildIdOf(source), 'SUCCEEDED'], [first.source, 'SUCCEEDED']]);
    expect(buildIdOf(stage(run, 'build'))).toBe(first.build);

    const build = await restart('build');
    expect(buildIdOf(build)).not.toBe(first.build);
    expect((await buildsOf(run.id, 'build')).map((b) => [b.id, b.status])).toEqual([[buildIdOf(build), 'SUCCEEDED'], [first.build, 'SUCCEEDED']]);

    const again = await restart('child');
    const childId = String(again.outputs?.childRunId);
    expect(childId).not.toBe(first.child);
    expect(await read(childId)).toMatchObject({ status: 'SUCCEEDED', parentRunId: run.id });
    expect((await read(first.child)).status).toBe('SUCCEEDED');
    expect(server.count(`/ok/child-${t}`)).toBe(2);
    expect(stage(run, 'child').outputs).toMatchObject({ childStatus: 'SUCCEEDED' });
  }, 220_000);
});
