// The Jenkins and Bake executors against the real test environment: the Jenkins fake, the chart
// repository, the git server and helm. Run `deploy/testenv/up` first.
import type { BuildStart } from '@pipewright/contracts';
import { QueryError } from '@pipewright/messaging';
import { parseOutboundAllow, type OutboundPolicy } from '@pipewright/platform';
import { createGitRepository, freePort, testEnv, testOutboundAllow, waitFor } from '@pipewright/testing';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bakeExecutor } from '../src/executors/bake.executor';
import { SERVICE_STOPPING, type BuildResult, type ExecutorContext } from '../src/executors/executor';
import { jenkinsExecutor } from '../src/executors/jenkins.executor';

const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

// ---- a stand-in for the environments service: answers the resolve queries from a map ----------

const resources = new Map<string, unknown>();
function resource<T extends { id: string }>(subject: string, value: Omit<T, 'id'>): T {
  const full = { id: randomUUID(), ...value } as T;
  resources.set(`${subject}:${full.id}`, full);
  return full;
}
const request = (async (subject: string, payload: { id: string }) => {
  const found = resources.get(`${subject}:${payload.id}`);
  if (!found) throw new QueryError('NOT_FOUND', `${subject}: no ${payload.id}`);
  return structuredClone(found);
}) as unknown as ExecutorContext['request'];

// ---- one build's context: a log that masks secrets, an abort controller, a workspace ------------

interface Harness {
  ctx: ExecutorContext;
  /** The log as stored (secrets masked). */
  lines: string[];
  /** What the executor wrote before masking (to prove a secret never even reached the log). */
  raw: string[];
  secrets: string[];
  states: Record<string, unknown>[];
  abort: AbortController;
}

const workspaces: string[] = [];
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const d of workspaces) rmSync(d, { recursive: true, force: true });
  for (const c of cleanups) c();
});

function harness(
  stageType: BuildStart['stageType'],
  config: Record<string, unknown>,
  opts: { state?: Record<string, unknown>; onSave?: (state: Record<string, unknown>, h: Harness) => void } = {},
): Harness {
  const workspace = mkdtempSync(join(tmpdir(), 'pw-builds-test-'));
  workspaces.push(workspace);
  const abort = new AbortController();
  const h: Harness = { lines: [], raw: [], secrets: [], states: [], abort, ctx: undefined as unknown as ExecutorContext };
  h.ctx = {
    buildId: randomUUID(),
    number: 1,
    command: {
      buildRequestId: randomUUID(),
      runId: randomUUID(),
      runNumber: 1,
      pipelineId: randomUUID(),
      refId: 'stage',
      stageType,
      config,
      parameters: {},
      artifacts: {},
    },
    log: {
      line(text) {
        for (const l of text.split('\n')) {
          h.raw.push(l);
          h.lines.push(h.secrets.reduce((acc, s) => acc.split(s).join('****'), l));
        }
      },
      secret(value) {
        if (value) h.secrets.push(value);
      },
      flush: async () => undefined,
    },
    signal: abort.signal,
    workspace,
    request,
    state: opts.state ?? {},
    saveState: async (state) => {
      h.states.push(structuredClone(state));
      opts.onSave?.(state, h);
    },
    tools: { git: 'git', helm: testEnv('HELM_BIN'), buildah: 'buildah', buildahStorageDriver: 'vfs' },
    // The test environment's Jenkins fake and chart repository, as startPlatform allows them.
    outbound: parseOutboundAllow(testOutboundAllow()),
    buildNetwork: 'none',
  };
  return h;
}

// ---- Jenkins ----------------------------------------------------------------------------------

describe('jenkinsExecutor (against the Jenkins fake)', () => {
  const jenkinsUrl = testEnv('JENKINS_URL').replace(/\/?$/, '/');
  const auth = `Basic ${Buffer.from(`${testEnv('JENKINS_USER')}:${testEnv('JENKINS_TOKEN')}`).toString('base64')}`;
  const tool = resource('rpc.environments.build-tool.resolve', {
    name: 'test-jenkins',
    kind: 'JENKINS',
    url: testEnv('JENKINS_URL'),
    username: testEnv('JENKINS_USER'),
    apiToken: testEnv('JENKINS_TOKEN'),
  });
  let jobCount = 0;
  /** A job of this test's own (the fake runs `<behaviour>-<suffix>` like `<behaviour>`), so build numbers start at 1. */
  const job = (behaviour: 'hello' | 'fails' | 'unstable' | 'slow') => `${behaviour}-${RUN}-${++jobCount}`;
  const config = (jobName: string, extra: Record<string, unknown> = {}) => ({ buildToolId: tool.id, job: jobName, ...extra });

  /** Reads the fake directly (what it received and did). */
  async function fake<T = Record<string, unknown>>(path: string): Promise<T> {
    const res = await fetch(`${jenkinsUrl}${path}`, { headers: { authorization: auth } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return (path.endsWith('json') ? res.json() : res.text()) as Promise<T>;
  }
  const consoleText = async (jobName: string, n: number) => (await fake<string>(`job/${jobName}/${n}/consoleText`)).replace(/\n$/, '').split('\n');
  const buildJson = (jobName: string, n: number) => fake<{ building: boolean; result: string | null; actions: { parameters?: { name: string; value: string }[] }[] }>(`job/${jobName}/${n}/api/json`);

  /** The console lines must appear in the build log once each, in order, as one block. */
  function expectConsole(lines: string[], console: string[]) {
    const start = lines.indexOf(console[0]);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(lines.slice(start, start + console.length)).toEqual(console);
    for (const l of new Set(console)) expect(lines.filter((x) => x === l).length).toBe(console.filter((x) => x === l).length);
  }

  it('refuses a Jenkins URL on an address OUTBOUND_ALLOW does not allow, naming it', async () => {
    const internal = resource('rpc.environments.build-tool.resolve', { name: 'internal-jenkins', kind: 'JENKINS', url: 'http://127.0.0.1:9/', username: 'u', apiToken: 't' });
    const result = await jenkinsExecutor.run(harness('BUILD_JENKINS', { buildToolId: internal.id, job: 'hello' }).ctx);
    expect(result.status).toBe('FAILED');
    expect(result.status === 'FAILED' && result.error).toMatch(/Jenkins at http:\/\/127\.0\.0\.1:9\/: refused to connect to 127\.0\.0\.1 for http:\/\/127\.0\.0\.1:9: it is a loopback address.*OUTBOUND_ALLOW=127\.0\.0\.1:9,/);
  });

  it('triggers with parameters, streams the whole console in order and succeeds', async () => {
    const name = job('hello');
    const h = harness('BUILD_JENKINS', config(name, { parameters: { MESSAGE: 'hi from pipewright, with a comma & more', GIT_REF: 'feature/x' } }));
    const result = await jenkinsExecutor.run(h.ctx);

    const buildUrl = `${jenkinsUrl}job/${name}/1/`;
    expect(result).toEqual({ status: 'SUCCEEDED', outputs: { buildNumber: 1, buildUrl, result: 'SUCCESS', job: name } });
    const received = (await buildJson(name, 1)).actions.flatMap((a) => a.parameters ?? []);
    expect(received).toEqual(
      expect.arrayContaining([
        { _class: 'hudson.model.StringParameterValue', name: 'MESSAGE', value: 'hi from pipewright, with a comma & more' },
        { _class: 'hudson.model.StringParameterValue', name: 'GIT_REF', value: 'feature/x' },
      ]),
    );
    expect(h.lines).toContain(`triggered ${name} #1: ${buildUrl}`);
    const console = await consoleText(name, 1);
    expect(console).toContain('  MESSAGE=hi from pipewright, with a comma & more');
    expect(console[console.length - 1]).toBe('Finished: SUCCESS');
    expectConsole(h.lines, console);
    // The queue item is saved before the build number, and the console offset as it advances.
    expect(h.states[0]).toEqual({ queueUrl: expect.stringMatching(/\/queue\/item\/\d+\/$/), queueId: expect.any(Number) });
    expect(h.states.find((s) => s.buildNumber)).toMatchObject({ buildNumber: 1, buildUrl });
    expect(h.states[h.states.length - 1].consoleOffset).toBe(Buffer.byteLength(`${console.join('\n')}\n`));
    // The API token never reached the log.
    expect(h.secrets).toContain(testEnv('JENKINS_TOKEN'));
    expect(h.raw.join('\n')).not.toContain(testEnv('JENKINS_TOKEN'));
  });

  it('POSTs /build when the stage has no parameters (the job runs with its defaults)', async () => {
    const name = job('hello');
    const result = await jenkinsExecutor.run(harness('BUILD_JENKINS', config(name)).ctx);
    expect(result.status).toBe('SUCCEEDED');
    expect(await consoleText(name, 1)).toEqual(expect.arrayContaining(['  GIT_REF=main', '  MESSAGE=hello']));
  });

  it('maps UNSTABLE to SUCCEEDED with a warning, or FAILED with failOnUnstable', async () => {
    const [a, b] = [job('unstable'), job('unstable')];
    const [lenient, strict] = await Promise.all([
      jenkinsExecutor.run(harness('BUILD_JENKINS', config(a)).ctx),
      jenkinsExecutor.run(harness('BUILD_JENKINS', config(b, { failOnUnstable: true })).ctx),
    ]);
    expect(lenient).toEqual({ status: 'SUCCEEDED', warning: 'Jenkins marked build #1 UNSTABLE', outputs: expect.objectContaining({ result: 'UNSTABLE', buildNumber: 1 }) });
    expect(strict).toMatchObject({ status: 'FAILED', error: expect.stringContaining(`Jenkins marked build ${b} #1 UNSTABLE`), outputs: { result: 'UNSTABLE' } });
  });

  it('maps FAILURE to FAILED naming the build', async () => {
    const name = job('fails');
    const h = harness('BUILD_JENKINS', config(name));
    const result = await jenkinsExecutor.run(h.ctx);
    expect(result).toEqual({
      status: 'FAILED',
      error: `Jenkins build ${name} #1 failed: ${jenkinsUrl}job/${name}/1/`,
      outputs: { buildNumber: 1, buildUrl: `${jenkinsUrl}job/${name}/1/`, result: 'FAILURE', job: name },
    });
    expect(h.lines).toContain('ERROR: 2 tests failed');
    expectConsole(h.lines, await consoleText(name, 1));
  });

  it('stops the running build when the run is cancelled and returns CANCELED with the reason', async () => {
    const name = job('slow');
    const h = harness('BUILD_JENKINS', config(name));
    const running = jenkinsExecutor.run(h.ctx);
    await waitFor('a console line of the slow build', () => h.lines.some((l) => l.includes('still working')), 20_000);
    h.abort.abort('cancelled by the tester');
    const result = await running;
    expect(result).toEqual({ status: 'CANCELED', error: 'cancelled by the tester', outputs: expect.objectContaining({ buildNumber: 1, job: name }) });
    const build = await buildJson(name, 1);
    expect(build).toMatchObject({ building: false, result: 'ABORTED' });
    expect(await consoleText(name, 1)).toContain(`Aborted by ${testEnv('JENKINS_USER')}`);
  });

  it('cancels the queue item when the run is cancelled before the build starts', async () => {
    const name = job('hello');
    const h = harness('BUILD_JENKINS', config(name), { onSave: (s, self) => s.queueId !== undefined && self.abort.abort(new Error('cancelled while queued')) });
    const result = await jenkinsExecutor.run(h.ctx);
    expect(result).toMatchObject({ status: 'CANCELED', error: 'cancelled while queued' });
    const queueId = h.states[0].queueId as number;
    expect(await fake(`queue/item/${queueId}/api/json`)).toMatchObject({ cancelled: true, executable: null });
    expect(await fake(`job/${name}/api/json`)).toMatchObject({ builds: [], nextBuildNumber: 1 });
  });

  it('maps a build aborted in Jenkins to CANCELED', async () => {
    const name = job('slow');
    const h = harness('BUILD_JENKINS', config(name));
    const running = jenkinsExecutor.run(h.ctx);
    await waitFor('the build to start', () => h.states.some((s) => s.buildNumber === 1), 20_000);
    const crumb = await fake<{ crumb: string; crumbRequestField: string }>('crumbIssuer/api/json');
    const stop = await fetch(`${jenkinsUrl}job/${name}/1/stop`, { method: 'POST', redirect: 'manual', headers: { authorization: auth, [crumb.crumbRequestField]: crumb.crumb } });
    expect(stop.status).toBe(302);
    expect(await running).toMatchObject({ status: 'CANCELED', error: expect.stringContaining(`Jenkins build ${name} #1 was aborted`), outputs: { result: 'ABORTED' } });
  });

  it('succeeds as soon as the build started when waitForCompletion is false', async () => {
    const name = job('slow');
    const h = harness('BUILD_JENKINS', config(name, { waitForCompletion: false }));
    const result = await jenkinsExecutor.run(h.ctx);
    expect(result).toEqual({ status: 'SUCCEEDED', outputs: { buildNumber: 1, buildUrl: `${jenkinsUrl}job/${name}/1/`, job: name } });
    expect(await buildJson(name, 1)).toMatchObject({ building: true });
    // Clean up: the slow build would otherwise run for a minute.
    const stopper = harness('BUILD_JENKINS', config(name), { state: h.states[h.states.length - 1] });
    stopper.abort.abort('cleanup');
    expect(await jenkinsExecutor.run(stopper.ctx)).toMatchObject({ status: 'CANCELED' });
    expect(await buildJson(name, 1)).toMatchObject({ result: 'ABORTED' });
  });

  it('resumes from the saved state after the service stopped mid-build: no second build, no line twice or missed', async () => {
    const name = job('hello');
    let saved: Record<string, unknown> = {};
    const first = harness('BUILD_JENKINS', config(name, { parameters: { MESSAGE: 'resumed' } }), {
      onSave: (s, self) => {
        saved = structuredClone(s);
        // The reason the build runner aborts with when the service stops.
        if ((s.consoleOffset as number) > 0) self.abort.abort('the build service is stopping');
      },
    });
    const interrupted = await jenkinsExecutor.run(first.ctx);
    expect(interrupted).toMatchObject({ status: 'CANCELED', error: 'the build service is stopping' });
    expect(saved).toMatchObject({ buildNumber: 1, consoleOffset: expect.any(Number) });

    const second = harness('BUILD_JENKINS', config(name, { parameters: { MESSAGE: 'resumed' } }), { state: saved });
    const result = await jenkinsExecutor.run(second.ctx);
    expect(result).toMatchObject({ status: 'SUCCEEDED', outputs: { buildNumber: 1, result: 'SUCCESS' } });
    expect(await fake(`job/${name}/api/json`)).toMatchObject({ nextBuildNumber: 2, builds: [expect.objectContaining({ number: 1 })] });
    expect(second.lines[0]).toBe(`resuming ${name} #1: ${jenkinsUrl}job/${name}/1/`);
    const console = await consoleText(name, 1);
    const both = [...first.lines, ...second.lines];
    expectConsole(both.filter((l) => console.includes(l)), console);
    expect(first.lines.filter((l) => console.includes(l)).length).toBeGreaterThan(0);
    expect(second.lines.filter((l) => console.includes(l)).length).toBeGreaterThan(0);
  });

  it('resumes from a saved queue item without triggering again', async () => {
    const name = job('hello');
    let saved: Record<string, unknown> = {};
    const first = harness('BUILD_JENKINS', config(name), {
      onSave: (s, self) => {
        saved = structuredClone(s);
        self.abort.abort(SERVICE_STOPPING);
      },
    });
    expect(await jenkinsExecutor.run(first.ctx)).toMatchObject({ status: 'CANCELED' });
    expect(saved).toEqual({ queueUrl: expect.any(String), queueId: expect.any(Number) });
    const result = await jenkinsExecutor.run(harness('BUILD_JENKINS', config(name), { state: saved }).ctx);
    expect(result).toMatchObject({ status: 'SUCCEEDED', outputs: { buildNumber: 1, result: 'SUCCESS' } });
    expect(await fake(`job/${name}/api/json`)).toMatchObject({ nextBuildNumber: 2 });
  });

  it('fails clearly on bad credentials, an unknown job, an unreachable server and a deleted build tool', async () => {
    const badTool = resource('rpc.environments.build-tool.resolve', { name: 'wrong-token', kind: 'JENKINS', url: testEnv('JENKINS_URL'), username: testEnv('JENKINS_USER'), apiToken: 'not-the-token' });
    const port = await freePort();
    const downTool = resource('rpc.environments.build-tool.resolve', { name: 'nowhere', kind: 'JENKINS', url: `http://127.0.0.1:${port}`, username: 'u', apiToken: 't' });
    // The port nothing listens on is allowed (OUTBOUND_ALLOW), so that the connection itself is refused.
    const outbound = parseOutboundAllow(testOutboundAllow([`127.0.0.1:${port}`]));
    const run = (cfg: Record<string, unknown>) => jenkinsExecutor.run({ ...harness('BUILD_JENKINS', cfg).ctx, outbound });
    const [bad, missing, down, deleted] = await Promise.all([
      run({ buildToolId: badTool.id, job: job('hello') }),
      run(config(`no-such-job-${RUN}`)),
      run({ buildToolId: downTool.id, job: 'hello' }),
      run({ buildToolId: randomUUID(), job: 'hello' }),
    ]);
    expect(bad).toEqual({ status: 'FAILED', error: `Jenkins at ${testEnv('JENKINS_URL')} refused the credentials of build tool wrong-token (401): check its user and API token` });
    expect(missing).toEqual({ status: 'FAILED', error: `Jenkins has no job "no-such-job-${RUN}"` });
    expect(down).toMatchObject({ status: 'FAILED', error: expect.stringContaining(`cannot reach Jenkins at http://127.0.0.1:${port}/`) });
    expect((down as { error: string }).error).toContain('connection refused');
    expect(deleted).toMatchObject({ status: 'FAILED', error: expect.stringContaining('does not exist any more: fix buildToolId') });
  });
});

// ---- Bake ---------------------------------------------------------------------------------------

/** A repository of this suite's own on the git server, holding the given files on `main`. */
async function gitRepository(name: string, files: Record<string, string>, symlinks?: Record<string, string>): Promise<string> {
  const repo = await createGitRepository(name, files, { symlinks });
  cleanups.push(repo.remove);
  return repo.url;
}

describe('bakeExecutor (helm against the chart repository and the git server)', () => {
  const anonymous = resource('rpc.environments.chart-repository.resolve', { name: 'test-charts', url: testEnv('CHART_REPO_URL'), username: null, password: null });
  const withAuth = resource('rpc.environments.chart-repository.resolve', {
    name: 'test-charts-auth',
    url: testEnv('CHART_REPO_AUTH_URL'),
    username: testEnv('CHART_REPO_USER'),
    password: testEnv('CHART_REPO_PASSWORD'),
  });
  const wrongAuth = resource('rpc.environments.chart-repository.resolve', { name: 'wrong-password', url: testEnv('CHART_REPO_AUTH_URL'), username: testEnv('CHART_REPO_USER'), password: 'not-the-password' });
  const sampleApp = resource('rpc.environments.source-repository.resolve', {
    name: 'sample-app',
    provider: 'GITHUB',
    url: testEnv('GIT_SAMPLE_REPO_URL'),
    defaultBranch: 'main',
    token: testEnv('GIT_TOKEN'),
  });
  let own: { id: string };

  // A file of the builds service's host, outside every checkout.
  const outsideFile = join(mkdtempSync(join(tmpdir(), 'pw-outside-')), 'host-secret.txt');
  beforeAll(async () => {
    writeFileSync(outsideFile, `HOST-SECRET-${RUN}\n`);
    const url = await gitRepository(`bake-${RUN}`, {
      // An umbrella chart with a local dependency (helm dependency update) and its values file.
      'charts/umbrella/Chart.yaml': 'apiVersion: v2\nname: umbrella\nversion: 2.3.4\ndependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n',
      'charts/umbrella/templates/configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-umbrella\ndata:\n  color: {{ .Values.color | quote }}\n',
      'charts/umbrella/values.yaml': 'color: blue\nlib:\n  greeting: hello\n',
      'charts/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\n',
      'charts/lib/templates/configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-lib\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
      'charts/broken/Chart.yaml': 'apiVersion: v2\nname: broken\nversion: 0.0.1\n',
      // A dependency on a repository of the platform's own network (loopback, port 9).
      // Chart.yaml names only a local dependency; the Chart.lock helm would fetch from names another.
      'charts/locked/Chart.yaml': 'apiVersion: v2\nname: locked\nversion: 0.0.1\ndependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n',
      'charts/locked/Chart.lock': 'dependencies:\n- name: lib\n  repository: http://127.0.0.1:9/charts\n  version: 0.1.0\ndigest: sha256:0000\ngenerated: "2026-01-01T00:00:00Z"\n',
      // A dependency from the test chart repository (fetched by the bake, not by helm).
      'charts/remote/Chart.yaml': `apiVersion: v2\nname: remote\nversion: 0.0.1\ndependencies:\n  - name: hello\n    version: ^0.1.0\n    repository: ${testEnv('CHART_REPO_URL')}\n`,
      // A template reading a file through a link out of the repository (see the symlinks below).
      'charts/leaky/Chart.yaml': 'apiVersion: v2\nname: leaky\nversion: 0.0.1\n',
      'charts/relayed/Chart.yaml': 'apiVersion: v2\nname: relayed\nversion: 0.0.1\n',
      'charts/leaky/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n  host: {{ .Files.Get "host.txt" | quote }}\n',
      'charts/reaching/Chart.yaml': 'apiVersion: v2\nname: reaching\nversion: 0.0.1\ndependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n  - name: inside\n    version: 1.0.0\n    repository: http://127.0.0.1:9/charts\n',
      'charts/broken/templates/deployment.yaml': 'image: {{ required "tag is required: set it with an override" .Values.tag }}\n',
      'values/staging.yaml': 'replicaCount: 4\nimage:\n  tag: "2.0.0-staging"\ncolor: green\nlib:\n  greeting: bonjour\n',
    }, {
      'charts/leaky/host.txt': outsideFile,
      // The templates are a link to another directory of the checkout, which links out in turn.
      'charts/relayed/templates': '../../shared',
      'shared/leak.yaml': outsideFile,
    });
    own = resource('rpc.environments.source-repository.resolve', { name: 'bake-fixtures', provider: 'GITLAB', url, defaultBranch: 'main', token: testEnv('GIT_TOKEN') });
  });

  const bake = (config: Record<string, unknown>) => {
    const h = harness('BAKE_MANIFEST', { releaseName: 'web', namespace: 'team-a', ...config });
    return { h, done: bakeExecutor.run(h.ctx) };
  };
  const manifestOf = (r: BuildResult) => {
    if (r.status !== 'SUCCEEDED') throw new Error(`bake ${r.status}: ${r.error}`);
    return r.outputs.manifest as string;
  };
  const fromRepo = (extra: Record<string, unknown> = {}) => ({ template: { source: 'CHART_REPOSITORY', chartRepositoryId: anonymous.id, chart: 'hello', ...extra } });

  it('refuses a chart repository on an address OUTBOUND_ALLOW does not allow, before helm runs', async () => {
    const internal = resource('rpc.environments.chart-repository.resolve', { name: 'internal', url: 'http://127.0.0.1:9/charts', username: null, password: null });
    const { h, done } = bake({ template: { source: 'CHART_REPOSITORY', chartRepositoryId: internal.id, chart: 'hello' } });
    const result = await done;
    expect(result.status).toBe('FAILED');
    expect(result.status === 'FAILED' && result.error).toMatch(
      /^cannot fetch chart "hello" from chart repository internal \(http:\/\/127\.0\.0\.1:9\/charts\): refused to connect to 127\.0\.0\.1 for http:\/\/127\.0\.0\.1:9: it is a loopback address.*OUTBOUND_ALLOW=127\.0\.0\.1:9,/,
    );
    expect(h.lines.filter((l) => l.startsWith('$ helm'))).toEqual([]);
  });

  it('renders a chart from the chart repository, with overrides escaped as helm needs', async () => {
    const { h, done } = bake({ ...fromRepo({ version: '0.1.0' }), overrides: [{ key: 'message', value: 'hi, there \\o/' }] });
    const result = await done;
    expect(result).toEqual({
      status: 'SUCCEEDED',
      outputs: { type: 'manifest', manifest: expect.any(String), chart: 'hello', chartVersion: '0.1.0', release: 'web', namespace: 'team-a' },
    });
    const manifest = manifestOf(result);
    expect(manifest).toContain('kind: Deployment');
    expect(manifest).toContain('name: web-hello');
    expect(manifest).toContain('message: "hi, there \\\\o/"');
    expect(h.lines).toContain(`fetching ${testEnv('CHART_REPO_URL').replace(/\/?$/, '/')}index.yaml`);
    expect(h.lines).toContainEqual(expect.stringMatching(/^fetched chart hello 0\.1\.0 from http:\/\/.*\/hello-0\.1\.0\.tgz \(\d+ KiB, sha256 matches the index\)$/));
    expect(h.lines).toContain(`$ helm template web ./chart/hello-0.1.0.tgz --namespace team-a --skip-tests --set-string 'message=hi\\, there \\\\o/'`);
    // No version asked: the latest, and its version is reported.
    expect(await bake(fromRepo()).done).toMatchObject({ status: 'SUCCEEDED', outputs: { chartVersion: '0.1.0' } });
  });

  it('passes overrides typed with --set (replaceBasicType) and as strings with --set-string', async () => {
    const overrides = [{ key: 'podAnnotations.replicas', value: '3' }];
    const [typed, strings] = await Promise.all([bake({ ...fromRepo(), overrides, replaceBasicType: true }).done, bake({ ...fromRepo(), overrides }).done]);
    expect(manifestOf(typed)).toMatch(/^ {8}replicas: 3$/m);
    expect(manifestOf(strings)).toMatch(/^ {8}replicas: "3"$/m);
  });

  it('uses the credentials of a chart repository without the password ever reaching the log', async () => {
    const password = testEnv('CHART_REPO_PASSWORD');
    const { h, done } = bake({ template: { source: 'CHART_REPOSITORY', chartRepositoryId: withAuth.id, chart: 'hello', version: '0.1.0' } });
    expect(manifestOf(await done)).toContain('name: web-hello');
    expect(h.secrets).toContain(password);
    expect(h.raw.join('\n')).not.toContain(password);
    expect(h.lines.join('\n')).not.toContain(password);
    expect(h.lines).toContain(`fetching ${testEnv('CHART_REPO_AUTH_URL').replace(/\/?$/, '/')}index.yaml`);

    const wrong = await bake({ template: { source: 'CHART_REPOSITORY', chartRepositoryId: wrongAuth.id, chart: 'hello' } }).done;
    expect(wrong).toMatchObject({ status: 'FAILED', error: expect.stringContaining('401 Unauthorized') });
    expect((wrong as { error: string }).error).toContain('check the user name and password of chart repository wrong-password');
  });

  it("fetches a git chart's dependency from its chart repository itself, behind the guard, and refuses one on an address OUTBOUND_ALLOW does not allow", async () => {
    const remote = bake({ template: { source: 'GIT_FILE', repositoryId: own.id, path: 'charts/remote' } });
    const manifest = manifestOf(await remote.done);
    expect(manifest).toContain('name: web-hello'); // the dependency's own resources
    expect(remote.h.lines).toContainEqual(expect.stringMatching(/^fetched chart hello 0\.1\.0 from http:\/\/.*hello-0\.1\.0\.tgz/));
    expect(remote.h.lines).toContainEqual(expect.stringMatching(/^\$ helm dependency update \.\/src\/chart\/charts\/remote --skip-refresh$/));

    const { h, done } = bake({ template: { source: 'GIT_FILE', repositoryId: own.id, path: 'charts/reaching' } });
    const result = await done;
    expect(result.status === 'FAILED' && result.error).toMatch(
      /^cannot build the dependencies of chart reaching \(charts\/reaching\): dependency inside from http:\/\/127\.0\.0\.1:9\/charts: refused to connect to 127\.0\.0\.1 for http:\/\/127\.0\.0\.1:9: it is a loopback address/,
    );
    expect(h.lines.filter((l) => l.startsWith('$ helm'))).toEqual([]);
    // What a Chart.lock names is never fetched: the dependency is the file:// one Chart.yaml names.
    expect(manifestOf(await bake({ template: { source: 'GIT_FILE', repositoryId: own.id, path: 'charts/locked' } }).done)).toContain('name: web-lib');
  });

  it('refuses a git chart holding a symbolic link out of the repository (helm would read the file it leads to)', async () => {
    const { h, done } = bake({ template: { source: 'GIT_FILE', repositoryId: own.id, path: 'charts/leaky' } });
    const result = await done;
    expect(result).toMatchObject({ status: 'FAILED', error: `chart charts/leaky: charts/leaky/host.txt is a symbolic link out of the repository (to ${outsideFile}): a chart may only hold its own files` });
    expect(JSON.stringify([result, h.raw])).not.toContain(`HOST-SECRET-${RUN}`);
    expect(h.lines.filter((l) => l.startsWith('$ helm template'))).toEqual([]);
    // Through a link to a directory inside the checkout that links out from there.
    const relayed = await bake({ template: { source: 'GIT_FILE', repositoryId: own.id, path: 'charts/relayed' } }).done;
    expect(relayed).toMatchObject({ status: 'FAILED', error: `chart charts/relayed: shared/leak.yaml is a symbolic link out of the repository (to ${outsideFile}): a chart may only hold its own files` });
  });

  describe('a chart repository whose index points elsewhere', () => {
    // A repository of the test's own, allowed by OUTBOUND_ALLOW: its index names archives on
    // addresses that are not allowed (directly, or by a redirect), or one changed after indexing.
    let server: Server;
    let base: string;
    let archive: Buffer;
    let policy: OutboundPolicy;
    const index = (url: string, digest: string) => `apiVersion: v1\nentries:\n  hello:\n  - name: hello\n    version: 0.1.0\n    digest: ${digest}\n    urls:\n    - ${url}\n`;
    beforeAll(async () => {
      archive = Buffer.from(await (await fetch(`${testEnv('CHART_REPO_URL').replace(/\/?$/, '/')}hello-0.1.0.tgz`)).arrayBuffer());
      const digest = createHash('sha256').update(archive).digest('hex');
      server = createServer((req, res) => {
        const routes: Record<string, () => void> = {
          '/direct/index.yaml': () => res.writeHead(200).end(index('http://127.0.0.1:9/hello-0.1.0.tgz', digest)),
          '/redirect/index.yaml': () => res.writeHead(200).end(index('hello-0.1.0.tgz', digest)),
          '/redirect/hello-0.1.0.tgz': () => res.writeHead(302, { location: 'http://127.0.0.1:9/stolen.tgz' }).end(),
          '/tampered/index.yaml': () => res.writeHead(200).end(index('hello-0.1.0.tgz', 'f'.repeat(64))),
          '/tampered/hello-0.1.0.tgz': () => res.writeHead(200).end(archive),
          // Versions the constraint must not pick point where picking them would fail (refused).
          '/ranged/index.yaml': () =>
            res.writeHead(200).end(
              `${index('hello-0.1.0.tgz', digest)}  - name: hello\n    version: 1.0.0\n    urls: [http://127.0.0.1:9/hello-1.0.0.tgz]\n  - name: hello\n    version: 0.2.0-rc.1\n    urls: [http://127.0.0.1:9/hello-0.2.0-rc.1.tgz]\n  - name: hello\n    version: 0.0.9\n    urls: [http://127.0.0.1:9/hello-0.0.9.tgz]\n`,
            ),
          '/ranged/hello-0.1.0.tgz': () => res.writeHead(200).end(archive),
        };
        (routes[req.url ?? ''] ?? (() => res.writeHead(404).end('not found')))();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      base = `http://127.0.0.1:${port}`;
      policy = parseOutboundAllow(testOutboundAllow([`127.0.0.1:${port}`]));
    });
    afterAll(() => new Promise((r) => server?.close(r)));

    const bakeFrom = async (path: string, version?: string) => {
      const repo = resource('rpc.environments.chart-repository.resolve', { name: `elsewhere-${path}`, url: `${base}/${path}`, username: null, password: null });
      const h = harness('BAKE_MANIFEST', { releaseName: 'web', namespace: 'team-a', template: { source: 'CHART_REPOSITORY', chartRepositoryId: repo.id, chart: 'hello', ...(version ? { version } : {}) } });
      return { h, result: await bakeExecutor.run({ ...h.ctx, outbound: policy }) };
    };

    it('refuses an archive URL on an address OUTBOUND_ALLOW does not allow, and a redirect to one, naming the address', async () => {
      for (const path of ['direct', 'redirect']) {
        const { h, result } = await bakeFrom(path);
        expect({ path, status: result.status }).toEqual({ path, status: 'FAILED' });
        expect(result.status === 'FAILED' && result.error).toMatch(/refused to connect to 127\.0\.0\.1 for http:\/\/127\.0\.0\.1:9: it is a loopback address.*OUTBOUND_ALLOW=/);
        expect(h.lines.filter((l) => l.startsWith('$ helm'))).toEqual([]);
      }
    });

    it('refuses an archive whose sha256 is not the index digest, and picks a version by a constraint', async () => {
      const tampered = await bakeFrom('tampered');
      expect(tampered.result).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/has sha256 [0-9a-f]{64}, not the f{64} the index gives: it was changed after it was indexed/) });
      const ranged = await bakeFrom('ranged', '>= 0.1, < 1.0');
      expect(ranged.result).toMatchObject({ status: 'SUCCEEDED', outputs: { chart: 'hello', chartVersion: '0.1.0' } });
    });
  });

  it('fails naming the chart and version the repository does not have', async () => {
    const result = await bake(fromRepo({ version: '9.9.9' })).done;
    expect(result).toMatchObject({ status: 'FAILED', error: expect.stringContaining('chart "hello" version "9.9.9" not found') });
  });

  it('renders a chart directory from a git repository, with a values file from another repository', async () => {
    const plain = await bake({ template: { source: 'GIT_FILE', repositoryId: sampleApp.id, path: 'chart' } }).done;
    expect(plain).toMatchObject({ status: 'SUCCEEDED', outputs: { chart: 'sample-app', chartVersion: '0.1.0', release: 'web', namespace: 'team-a' } });
    expect(manifestOf(plain)).toContain('replicas: 1');
    expect(manifestOf(plain)).toContain('image: "127.0.0.1:5000/pipewright/sample-app:0.1.0"');

    const { h, done } = bake({
      template: { source: 'GIT_FILE', repositoryId: sampleApp.id, path: 'chart', branch: 'main' },
      valuesFile: { repositoryId: own.id, path: 'values/staging.yaml' },
      overrides: [{ key: 'image.repository', value: 'registry.example.com/app' }],
    });
    const manifest = manifestOf(await done);
    expect(manifest).toContain('replicas: 4');
    expect(manifest).toContain('image: "registry.example.com/app:2.0.0-staging"');
    expect(h.lines).toContain(`$ helm template web ./src/chart/chart --namespace team-a --skip-tests -f ./src/values/values/staging.yaml --set-string image.repository=registry.example.com/app`);
    expect(h.raw.join('\n')).not.toContain(testEnv('GIT_TOKEN'));
  });

  it('builds the dependencies of a git chart and reads a values file from the same checkout', async () => {
    const { h, done } = bake({
      template: { source: 'GIT_FILE', repositoryId: own.id, path: 'charts/umbrella' },
      valuesFile: { repositoryId: own.id, path: 'values/staging.yaml' },
    });
    const result = await done;
    expect(result).toMatchObject({ status: 'SUCCEEDED', outputs: { chart: 'umbrella', chartVersion: '2.3.4' } });
    const manifest = manifestOf(result);
    expect(manifest).toContain('name: web-umbrella');
    expect(manifest).toContain('color: "green"');
    expect(manifest).toContain('name: web-lib');
    expect(manifest).toContain('greeting: "bonjour"');
    expect(h.lines).toContain('$ helm dependency update ./src/chart/charts/umbrella --skip-refresh');
    expect(h.lines.filter((l) => l.startsWith('checked out '))).toHaveLength(1);
  });

  it('fails with helm\'s message when the chart does not render, and names a path that is not a chart', async () => {
    const [broken, notAChart, outside] = await Promise.all([
      bake({ template: { source: 'GIT_FILE', repositoryId: own.id, path: 'charts/broken' } }).done,
      bake({ template: { source: 'GIT_FILE', repositoryId: own.id, path: 'values' } }).done,
      bake({ template: { source: 'GIT_FILE', repositoryId: own.id, path: '../../etc' } }).done,
    ]);
    expect(broken).toMatchObject({ status: 'FAILED', error: expect.stringContaining('helm template of chart broken failed: ') });
    expect((broken as { error: string }).error).toContain('tag is required: set it with an override');
    expect(notAChart).toMatchObject({ status: 'FAILED', error: expect.stringContaining('"values" on branch main of bake-fixtures is not a Helm chart directory') });
    expect(outside).toMatchObject({ status: 'FAILED', error: 'template.path must be a path inside the repository (got "../../etc")' });
  });
});
