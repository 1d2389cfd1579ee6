// The builds service through the whole platform: Source, hosted builds (real git server, buildah,
// registry), Jenkins (the fake that speaks its API), Helm bakes (real helm, chart repository), and
// build logs live over the gateway; deployed to the test environment's real Kubernetes.
import type { RunStatus } from '@pipewright/contracts';
import { MessageBus } from '@pipewright/messaging';
import { connectTestNats, kubeAdmin, pipelineDriver, serviceQuery, startPlatform, testEnv, waitFor, type TestPlatform } from '@pipewright/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;

interface StageOut {
  refId: string;
  status: string;
  error: string | null;
  outputs: Record<string, unknown> | null;
}
interface RunOut {
  id: string;
  number: number;
  status: RunStatus;
  reason: string | null;
  artifacts: Record<string, unknown>;
  stages: StageOut[];
}
interface BuildOut {
  id: string;
  number: number;
  status: string;
  image: string | null;
  digest: string | null;
  error: string | null;
  warning: string | null;
  stageRefId: string;
  durationSeconds: number | null;
  run: { id: string; number: number };
  log: { lines: { offset: number; text: string }[]; nextOffset: number; complete: boolean };
}
const RUN_FIELDS = 'id number status reason artifacts stages { refId status error outputs }';
const BUILD_FIELDS = 'id number status image digest error warning stageRefId durationSeconds run { id number } log(offset: 0, limit: 5000) { lines { offset text } nextOffset complete }';

describe('builds service (real git, buildah, registry, helm, chart repository; the Jenkins fake)', () => {
  let platform: TestPlatform;
  let admin: string;
  let dev: string;
  let workspaces: string;
  const env: Record<string, string> = {};

  const { ok, pipeline, start, reach, stage } = pipelineDriver<RunOut>(() => platform.gatewayUrl, () => dev, RUN_FIELDS, { label: 'build', reachTimeoutMs: 280_000 });
  const create = async (kind: string, input: Record<string, unknown>) =>
    (await ok<Record<string, { id: string }>>(`mutation($i: Create${kind}Input!) { create${kind}(input: $i) { id } }`, { i: { name: unique(kind.toLowerCase()), ...input } }, admin))[`create${kind}`].id;
  const build = async (id: string) => (await ok<{ build: BuildOut }>(`query($id: ID!) { build(id: $id) { ${BUILD_FIELDS} } }`, { id })).build;
  const logText = (b: BuildOut) => b.log.lines.map((l) => l.text).join('\n');
  const wsClient = () => createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${dev}` }, retryAttempts: 0 });
  const kubeGet = (path: string) => kubeAdmin('GET', path);
  const kubeSend = async (method: 'POST' | 'DELETE', path: string, body: unknown) => (await kubeAdmin(method, path, body)).status;

  beforeAll(async () => {
    workspaces = mkdtempSync(join(tmpdir(), 'pw-builds-spec-'));
    platform = await startPlatform('builds', {}, { builds: { GIT_BIN: 'git', HELM_BIN: testEnv('HELM_BIN'), BUILDAH_BIN: testEnv('BUILDAH_BIN'), BUILD_WORKSPACE_DIR: workspaces, BUILDS_INSTANCE_ID: 'builds-spec' } });
    admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    dev = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    env.repo = await create('SourceRepository', { provider: 'GITHUB', url: testEnv('GIT_SAMPLE_REPO_URL'), defaultBranch: 'main', token: testEnv('GIT_TOKEN') });
    env.registry = await create('ImageRegistry', { url: testEnv('REGISTRY_URL'), namespace: unique('team'), insecure: true });
    env.jenkins = await create('BuildTool', { kind: 'JENKINS', url: testEnv('JENKINS_URL'), username: testEnv('JENKINS_USER'), apiToken: testEnv('JENKINS_TOKEN') });
    env.charts = await create('ChartRepository', { url: testEnv('CHART_REPO_URL') });
    env.namespace = unique('pw-builds');
    expect(await kubeSend('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: env.namespace } })).toBe(201);
    env.target = await create('DeploymentTarget', { apiServerUrl: testEnv('KUBE_API_URL'), caCertificate: readFileSync(testEnv('KUBE_CA_FILE'), 'utf8'), token: testEnv('KUBE_TOKEN'), defaultNamespace: env.namespace });
  });
  afterAll(async () => {
    if (env.namespace) await kubeSend('DELETE', `/api/v1/namespaces/${env.namespace}`, {}).catch(() => undefined);
    await platform?.stop();
    if (workspaces) rmSync(workspaces, { recursive: true, force: true });
  });

  const source = { refId: 'source', name: 'source', type: 'SOURCE_GITHUB', config: () => ({ repositoryId: env.repo }), endCondition: { artifacts: [{ name: 'commit', from: 'artifact' }] } };
  const hosted = (config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    refId: 'build',
    name: 'build',
    type: 'BUILD_HOSTED',
    dependsOn: ['source'],
    config: { buildImage: testEnv('BASE_IMAGE'), registryId: env.registry, imageName: 'app', tagFormat: '_{BUILD_NUMBER}', buildCommand: 'sh build.sh', ...config },
    endCondition: { artifacts: [{ name: 'image', from: 'artifact' }] },
    ...extra,
  });

  it('SOURCE → BUILD_HOSTED → DEPLOY: builds, pushes app:_<n>, deploys it, and the log subscription sees the command live', async () => {
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: { name: sample }
spec:
  replicas: 1
  selector: { matchLabels: { app: sample } }
  template:
    metadata: { labels: { app: sample } }
    spec:
      containers: [{ name: app, image: "${testEnv('REGISTRY_URL')}/REGISTRY_NAMESPACE/app:_{BUILD_NUMBER}" }]
`;
    const { imageRegistry } = await ok<{ imageRegistry: { namespace: string } }>(`query($id: ID!) { imageRegistry(id: $id) { namespace } }`, { id: env.registry });
    const id = await pipeline([
      { ...source, config: source.config() },
      // No image artifact: the deploy finds the tag in the registry itself, by its {BUILD_NUMBER} format.
      hosted({ buildCommand: 'echo compiling sample-app; sh build.sh; echo finished compiling' }, { endCondition: undefined }),
      { refId: 'deploy', name: 'deploy', type: 'DEPLOY', dependsOn: ['build'], config: { targetId: env.target, manifest: manifest.replace('REGISTRY_NAMESPACE', imageRegistry.namespace) } },
    ]);
    const r = await start(id);

    // Watch the build's log live, from its first line.
    const buildId = await waitFor('the build to start', async () => {
      const res = await ok<{ builds: { edges: { node: { id: string } }[] } }>(`query($p: ID!) { builds(pipelineId: $p, stageRefId: "build") { edges { node { id } } } }`, { p: id });
      return res.builds.edges[0]?.node.id;
    }, 120_000);
    const client = wsClient();
    const live: { offset: number; text: string }[] = [];
    const deliveries: { at: number; offsets: number[] }[] = [];
    let complete = false;
    const streamed = new Promise<void>((resolve, reject) =>
      client.subscribe<{ buildLog: { lines: { offset: number; text: string }[]; complete: boolean } }>(
        { query: `subscription($b: ID!) { buildLog(buildId: $b, fromOffset: 0) { lines { offset text } nextOffset complete } }`, variables: { b: buildId } },
        {
          next: (v) => {
            if (v.errors) return reject(new Error(JSON.stringify(v.errors)));
            live.push(...v.data!.buildLog.lines);
            deliveries.push({ at: Date.now(), offsets: v.data!.buildLog.lines.map((l) => l.offset) });
            if (v.data!.buildLog.complete) complete = true;
          },
          error: reject,
          complete: resolve,
        },
      ),
    );
    const done = await reach(r.id);
    await streamed;
    await client.dispose();
    expect(done.status).toBe('SUCCEEDED');

    const built = await build(buildId);
    const reference = `${testEnv('REGISTRY_URL')}/${imageRegistry.namespace}/app:_${built.number}`;
    expect(built).toMatchObject({ status: 'SUCCEEDED', image: reference, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), stageRefId: 'build', run: { id: r.id, number: r.number } });
    expect(stage(done, 'build').outputs).toMatchObject({ artifact: { type: 'docker/image', reference, digest: built.digest }, resources: { cpu: 1, memoryMb: 2048, enforced: true } });
    expect(done.artifacts.image).toBeUndefined();
    expect((stage(done, 'deploy').outputs as { images: { to: string; reason: string }[] }).images).toEqual([expect.objectContaining({ to: reference, reason: expect.stringMatching(/highest tag/) })]);
    expect(done.artifacts.commit).toMatchObject({ type: 'git/commit', branch: 'main', commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    // The deploy resolved _{BUILD_NUMBER} to the image just pushed, and the Deployment runs it.
    const deployment = await kubeGet(`/apis/apps/v1/namespaces/${env.namespace}/deployments/sample`);
    expect((deployment.body as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0].image).toBe(reference);
    // The subscription saw every line, in order, ending complete; the command's own output among them.
    expect(complete).toBe(true);
    expect(live.map((l) => l.offset)).toEqual(live.map((_, i) => i));
    expect(live.map((l) => l.text)).toEqual(built.log.lines.map((l) => l.text));
    const texts = live.map((l) => l.text);
    expect(texts.indexOf('compiling sample-app')).toBeGreaterThan(-1);
    expect(texts.indexOf('built sample-app 0.1.0')).toBeGreaterThan(texts.indexOf('compiling sample-app'));
    expect(texts.some((t) => t.startsWith(`pushed ${reference}`))).toBe(true);
    // Live: after what was stored when it subscribed, more lines came in later deliveries, before the build had finished.
    const finishedAt = Date.parse((await ok<{ build: { finishedAt: string } }>(`query($id: ID!) { build(id: $id) { finishedAt } }`, { id: buildId })).build.finishedAt);
    const laterWithLines = deliveries.slice(1).filter((d) => d.offsets.length && d.at < finishedAt);
    expect(laterWithLines.length).toBeGreaterThan(0);
  }, 300_000);

  it('builds the repository and branch the stage names when there is no Source stage, tagged by {COMMIT}', async () => {
    const id = await pipeline([{ ...hosted({ repositoryId: env.repo, branch: 'main', tagFormat: 'c-{COMMIT}', buildCommand: '' }), dependsOn: [] }]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('SUCCEEDED');
    const outputs = stage(done, 'build').outputs as { commit: string; tag: string; reference: string };
    expect(outputs.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(outputs.tag).toBe(`c-${outputs.commit.slice(0, 12)}`);
    expect(outputs.reference.endsWith(`/app:${outputs.tag}`)).toBe(true);
  });

  it('numbers builds per pipeline stage across runs, and never reuses a number', async () => {
    const id = await pipeline([
      { refId: 'a', name: 'a', type: 'SOURCE_GITHUB', config: { repositoryId: env.repo } },
      { refId: 'b', name: 'b', type: 'SOURCE_GITHUB', config: { repositoryId: env.repo, branch: 'main' } },
    ]);
    for (let i = 0; i < 3; i++) {
      const r = await reach((await start(id)).id);
      expect(r.status).toBe('SUCCEEDED');
    }
    const numbers = async (refId: string) =>
      (await ok<{ builds: { edges: { node: { number: number } }[]; totalCount: number } }>(`query($p: ID!, $s: ID!) { builds(pipelineId: $p, stageRefId: $s, first: 10) { totalCount edges { node { number } } } }`, { p: id, s: refId })).builds;
    expect((await numbers('a')).edges.map((e) => e.node.number)).toEqual([3, 2, 1]);
    expect((await numbers('b')).edges.map((e) => e.node.number)).toEqual([3, 2, 1]);
  });

  it('fails a Source stage on a missing branch, naming the branches there are', async () => {
    const id = await pipeline([{ refId: 'src', name: 'src', type: 'SOURCE_GITLAB', config: { repositoryId: env.repo, branch: 'no-such-branch' } }]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('FAILED');
    expect(stage(done, 'src').error).toMatch(/has no branch "no-such-branch"; it has main/);
  });

  it('fails a build command that exits non-zero with its exit code and last lines, one over its memory size, and one at its time limit', async () => {
    const failing = await pipeline([{ ...source, config: source.config() }, hosted({ buildCommand: 'echo about to fail; echo on stderr >&2; exit 3' })]);
    const failed = await reach((await start(failing)).id);
    expect(failed.status).toBe('FAILED');
    expect(stage(failed, 'build').error).toMatch(/the build command exited with code 3; its last lines:[\s\S]*about to fail[\s\S]*on stderr/);

    // The memory size is enforced (cgroups, as root here): a command that needs 300 MB of 128 is stopped, saying why.
    const hungry = await pipeline([{ ...source, config: source.config() }, hosted({ buildCommand: 'head -c 300000000 /dev/zero | tail > /dev/null', memoryMb: 128 })]);
    const starved = await reach((await start(hungry)).id);
    expect(starved.status).toBe('FAILED');
    expect(stage(starved, 'build').error).toMatch(/the build command ran out of memory: it needed more than the build's 128 MB \(memoryMb\)/);

    const slow = await pipeline([{ ...source, config: source.config() }, hosted({ buildCommand: 'echo sleeping; sleep 600', timeLimitMinutes: 1 })]);
    const killed = await reach((await start(slow)).id);
    expect(killed.status).toBe('FAILED');
    expect(stage(killed, 'build').error).toMatch(/time limit of 1 minute reached/);
    // Stopped at the limit, and nothing of it still runs.
    const slowBuild = await build(String((stage(killed, 'build').outputs as { buildId: string }).buildId));
    expect(slowBuild.durationSeconds).toBeGreaterThanOrEqual(60);
    expect(slowBuild.durationSeconds).toBeLessThan(120);
    expect(processesMentioning(slowBuild.id)).toEqual([]);
  });

  it('masks a registry password given to the build: it never appears in the stored log', async () => {
    const password = testEnv('REGISTRY_PASSWORD');
    const secured = await create('ImageRegistry', { url: testEnv('REGISTRY_AUTH_URL'), namespace: unique('secure'), insecure: true, username: testEnv('REGISTRY_USER'), password });
    const id = await pipeline([{ ...source, config: source.config() }, hosted({ registryId: secured, buildCommand: `echo the password is ${password}; sh build.sh` })]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('SUCCEEDED');
    const built = await build(String((stage(done, 'build').outputs as { buildId: string }).buildId));
    const text = logText(built);
    expect(text).toContain('the password is ****');
    expect(text).not.toContain(password);
    expect(built.image).toContain(testEnv('REGISTRY_AUTH_URL'));

    // A failing build quotes its last lines in the stage error: masked there too.
    const failing = await pipeline([{ ...source, config: source.config() }, hosted({ registryId: secured, buildCommand: `echo leaked ${password}; exit 4` })]);
    const failed = await reach((await start(failing)).id);
    expect(failed.status).toBe('FAILED');
    expect(stage(failed, 'build').error).toMatch(/exited with code 4[\s\S]*leaked \*\*\*\*/);
    expect(stage(failed, 'build').error).not.toContain(password);
  });

  it('refuses a build image or a Dockerfile base image on an address OUTBOUND_ALLOW does not allow, before pulling it', async () => {
    const image = await reach((await start(await pipeline([{ ...source, config: source.config() }, hosted({ buildImage: '127.0.0.1:9/evil:1' })]))).id);
    expect(stage(image, 'build')).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/^cannot pull build image 127\.0\.0\.1:9\/evil:1: refused to connect to 127\.0\.0\.1 for https:\/\/127\.0\.0\.1:9: it is a loopback address.*OUTBOUND_ALLOW=127\.0\.0\.1:9,/) });
    // The build command writes a Dockerfile whose FROM names such an address.
    const base = await reach((await start(await pipeline([{ ...source, config: source.config() }, hosted({ buildCommand: "printf 'FROM 127.0.0.1:9/evil:1\\n' > Dockerfile.evil", dockerfilePath: 'Dockerfile.evil' })]))).id);
    expect(stage(base, 'build')).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/^cannot pull base image of Dockerfile\.evil: 127\.0\.0\.1:9\/evil:1: refused to connect to 127\.0\.0\.1/) });
  });

  it('a cancel that overtakes its start ends the build at once, without running it', async () => {
    const nc = await connectTestNats('builds-spec');
    const bus = new MessageBus(nc, platform.prefix, 'builds-spec', { warn: () => undefined, error: () => undefined });
    const finished: { buildRequestId: string; status: string; error: string | null }[] = [];
    const consumer = await bus.consume(['evt.builds.build.finished.v1'], { durable: unique('spec-finished'), from: 'new' }, async (e) => void finished.push(e));
    try {
      const buildRequestId = randomUUID();
      const job = unique('hello');
      await bus.publish('cmd.builds.build.cancel.v1', { buildRequestId, reason: 'changed my mind' }, { msgId: `${buildRequestId}/cancel` });
      // The cancel is handled (remembered) before the start arrives.
      await waitFor('the cancel to be remembered', async () => {
        const rows = await serviceQuery(platform, 'builds', `SELECT 1 FROM build_cancels WHERE build_request_id = $1`, [buildRequestId]);
        return rows.length > 0;
      });
      await bus.publish(
        'cmd.builds.build.start.v1',
        { buildRequestId, runId: randomUUID(), runNumber: 1, pipelineId: randomUUID(), refId: 'ci', stageType: 'BUILD_JENKINS', config: { buildToolId: env.jenkins, job, parameters: {}, waitForCompletion: true, failOnUnstable: false }, parameters: {}, artifacts: {} },
        { msgId: buildRequestId },
      );
      const event = await waitFor('the build to be reported', () => finished.find((e) => e.buildRequestId === buildRequestId));
      expect(event).toMatchObject({ status: 'CANCELED', error: 'canceled before it started: changed my mind' });
      // Jenkins never saw the job run.
      const res = await fetch(`${testEnv('JENKINS_URL')}/job/${job}/api/json`, { headers: { authorization: `Basic ${Buffer.from(`${testEnv('JENKINS_USER')}:${testEnv('JENKINS_TOKEN')}`).toString('base64')}` } });
      expect(((await res.json()) as { nextBuildNumber: number }).nextBuildNumber).toBe(1);
    } finally {
      await consumer.stop();
      await nc.close();
    }
  });

  it('Jenkins: parameters reach the job, the console streams into the log, UNSTABLE warns, FAILURE fails', async () => {
    const id = await pipeline(
      [{ refId: 'ci', name: 'ci', type: 'BUILD_JENKINS', config: { buildToolId: env.jenkins, job: '${parameters.job}', parameters: { GREETING: 'hi ${parameters.who}' } } }],
      [{ name: 'job', required: true }, { name: 'who', default: 'there' }],
    );
    const good = await reach((await start(id, { job: unique('hello') })).id);
    expect(good.status).toBe('SUCCEEDED');
    const goodBuild = await build(String((stage(good, 'ci').outputs as { buildId: string }).buildId));
    expect(logText(goodBuild)).toContain('GREETING=hi there');
    expect(stage(good, 'ci').outputs).toMatchObject({ result: 'SUCCESS', buildNumber: expect.any(Number) });

    const unstable = await reach((await start(id, { job: unique('unstable') })).id);
    expect(unstable.status).toBe('SUCCEEDED');
    expect(stage(unstable, 'ci').outputs).toMatchObject({ result: 'UNSTABLE', warning: expect.stringMatching(/UNSTABLE/) });

    const failing = await reach((await start(id, { job: unique('fails') })).id);
    expect(failing.status).toBe('FAILED');
    expect(stage(failing, 'ci').error).toMatch(/failed/i);
  });

  it('Jenkins: ${secrets.NAME} in a parameter reaches the job, and the log, outputs, database and process output show it masked', async () => {
    const value = `jenkins-${randomBytes(8).toString('hex')}-secret`;
    const name = `DEPLOY_KEY_${randomBytes(3).toString('hex')}`;
    await create('Secret', { name, value });
    const job = unique('hello');
    const id = await pipeline([{ refId: 'ci', name: 'ci', type: 'BUILD_JENKINS', config: { buildToolId: env.jenkins, job, parameters: { KEY: `key=\${secrets.${name}}`, PLAIN: 'visible' } } }]);
    const run = await reach((await start(id)).id);
    expect(run.status).toBe('SUCCEEDED');
    // Jenkins got the value itself (its API lists the build's parameters).
    const jenkinsAuth = { authorization: `Basic ${Buffer.from(`${testEnv('JENKINS_USER')}:${testEnv('JENKINS_TOKEN')}`).toString('base64')}` };
    const info = (await (await fetch(`${testEnv('JENKINS_URL')}/job/${job}/1/api/json`, { headers: jenkinsAuth })).json()) as { actions: { parameters?: { name: string; value: string }[] }[] };
    expect(info.actions.flatMap((a) => a.parameters ?? [])).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'KEY', value: `key=${value}` }), expect.objectContaining({ name: 'PLAIN', value: 'visible' })]));
    // The fake's console echoes every parameter: the build's log shows the secret one masked.
    const b = await build(String((stage(run, 'ci').outputs as { buildId: string }).buildId));
    expect(logText(b)).toContain('PLAIN=visible');
    expect(logText(b)).toMatch(/KEY=key=\*+/);
    expect(JSON.stringify([run, b])).not.toContain(value);
    const tables = await serviceQuery<{ table_name: string }>(platform, 'builds', `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    for (const { table_name: table } of tables) {
      const rows = await serviceQuery<{ t: string }>(platform, 'builds', `SELECT row_to_json(x)::text AS t FROM "${table}" x`);
      expect({ table, leaked: rows.filter((r) => r.t.includes(value)).length }).toEqual({ table, leaked: 0 });
    }
    for (const service of ['builds', 'executions', 'environments', 'gateway'] as const) expect({ service, leaked: platform.processes[service].output().includes(value) }).toEqual({ service, leaked: false });
  });

  it('Jenkins: cancelling the run stops the Jenkins build', async () => {
    const job = unique('slow');
    const id = await pipeline([{ refId: 'ci', name: 'ci', type: 'BUILD_JENKINS', config: { buildToolId: env.jenkins, job } }]);
    const r = await start(id);
    const jenkins = (path: string) => fetch(`${testEnv('JENKINS_URL')}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${testEnv('JENKINS_USER')}:${testEnv('JENKINS_TOKEN')}`).toString('base64')}` } });
    await waitFor('the Jenkins build to run', async () => {
      const res = await jenkins(`/job/${job}/lastBuild/api/json`);
      return res.ok && ((await res.json()) as { building: boolean }).building;
    }, 60_000);
    await ok(`mutation($r: ID!) { cancelRun(runId: $r, reason: "not today") { status } }`, { r: r.id });
    await waitFor('Jenkins to abort the build', async () => {
      const res = await jenkins(`/job/${job}/lastBuild/api/json`);
      return ((await res.json()) as { result: string | null }).result === 'ABORTED';
    }, 60_000);
    expect((await reach(r.id)).status).toBe('CANCELED');
  });

  it('bakes a chart from the chart repository and from a git directory; --set and --set-string differ; the manifest deploys', async () => {
    const bake = (refId: string, template: Record<string, unknown>, overrides: { key: string; value: string }[], replaceBasicType: boolean) => ({
      refId,
      name: refId,
      type: 'BAKE_MANIFEST',
      config: { releaseName: refId, namespace: env.namespace, template, overrides, replaceBasicType },
      endCondition: { artifacts: [{ name: `${refId}-manifest`, from: 'manifest' }] },
    });
    const hello = { source: 'CHART_REPOSITORY', chartRepositoryId: env.charts, chart: 'hello' };
    // podAnnotations is rendered with toYaml: the type of the value shows.
    const annotation = [{ key: 'podAnnotations.replicas', value: '3' }];
    const id = await pipeline([
      bake('typed', hello, annotation, true),
      bake('strings', hello, annotation, false),
      bake('fromgit', { source: 'GIT_FILE', repositoryId: env.repo, path: 'chart' }, [{ key: 'replicaCount', value: '2' }], true),
      { refId: 'deploy', name: 'deploy', type: 'DEPLOY', dependsOn: ['strings'], config: { targetId: env.target, manifestArtifact: 'strings-manifest' } },
    ]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('SUCCEEDED');
    expect(String(done.artifacts['typed-manifest'])).toMatch(/\n\s+replicas: 3\n/);
    expect(String(done.artifacts['strings-manifest'])).toMatch(/\n\s+replicas: "3"\n/);
    expect(String(done.artifacts['fromgit-manifest'])).toMatch(/kind: Deployment[\s\S]*name: fromgit[\s\S]*replicas: 2\n/);
    // The baked manifest deployed: its Deployment is there and Ready.
    const resources = (stage(done, 'deploy').outputs as { resources: { kind: string; name: string }[] }).resources;
    const deployment = resources.find((r) => r.kind === 'Deployment')!;
    const live = await kubeGet(`/apis/apps/v1/namespaces/${env.namespace}/deployments/${deployment.name}`);
    expect((live.body as { status: { readyReplicas?: number } }).status.readyReplicas).toBe(1);
  });

  it('runs at most BUILDS_MAX_PARALLEL (2) builds at once; the third waits, in order, and its log says so', async () => {
    const ci = (refId: string) => ({ refId, name: refId, type: 'BUILD_JENKINS', config: { buildToolId: env.jenkins, job: unique('hello') } });
    const id = await pipeline([ci('a'), ci('b'), ci('c')]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('SUCCEEDED');
    const builds = await Promise.all(['a', 'b', 'c'].map(async (refId) => {
      const b = await build(String((stage(done, refId).outputs as { buildId: string }).buildId));
      const times = (await ok<{ build: { startedAt: string; finishedAt: string; queuedAt: string } }>(`query($id: ID!) { build(id: $id) { queuedAt startedAt finishedAt } }`, { id: b.id })).build;
      return { ...b, ...times };
    }));
    const queued = builds.filter((b) => /^queued: \d+ build\(s\) ahead of this one, at most 2 run at once/.test(b.log.lines[0]?.text ?? ''));
    expect(queued).toHaveLength(1);
    // It started only when one of the other two had finished.
    const others = builds.filter((b) => b.id !== queued[0].id);
    expect(Date.parse(queued[0].startedAt)).toBeGreaterThanOrEqual(Math.min(...others.map((b) => Date.parse(b.finishedAt))));
    // Every workspace is gone once its build ended.
    expect(readdirSync(workspaces)).toEqual([]);
  });

  it('survives a crash of the builds service: a Jenkins build is resumed (not triggered again), a hosted build is failed', async () => {
    // A job that runs until this test releases it, so it is still running when the service dies.
    const job = unique('gated');
    const jenkinsId = await pipeline([{ refId: 'ci', name: 'ci', type: 'BUILD_JENKINS', config: { buildToolId: env.jenkins, job } }]);
    const hostedId = await pipeline([{ ...source, config: source.config() }, hosted({ buildCommand: 'echo napping; sleep 600' })]);
    const jenkinsRun = await start(jenkinsId);
    const hostedRun = await start(hostedId);
    const running = async (refId: string, pipelineId: string, test: (b: BuildOut & { state?: unknown }) => boolean) =>
      waitFor(`build ${refId} of ${pipelineId} to be under way`, async () => {
        const res = await ok<{ builds: { edges: { node: { id: string } }[] } }>(`query($p: ID!, $s: ID!) { builds(pipelineId: $p, stageRefId: $s) { edges { node { id } } } }`, { p: pipelineId, s: refId });
        const id = res.builds.edges[0]?.node.id;
        const b = id ? await build(id) : null;
        return b && test(b) ? b : undefined;
      }, 120_000);
    await running('ci', jenkinsId, (b) => b.log.lines.some((l) => l.text.startsWith(`triggered ${job} #`)));
    const napping = await running('build', hostedId, (b) => b.log.lines.some((l) => l.text === 'napping'));
    expect(processesMentioning(napping.id).length).toBeGreaterThan(0); // the build command runs (under buildah)

    platform.processes.builds.child.kill('SIGKILL');
    expect(await platform.processes.builds.exited).toBe('SIGKILL');
    await platform.restart('builds');
    const jenkinsAuth = { authorization: `Basic ${Buffer.from(`${testEnv('JENKINS_USER')}:${testEnv('JENKINS_TOKEN')}`).toString('base64')}` };
    const { crumb } = (await (await fetch(`${testEnv('JENKINS_URL')}/crumbIssuer/api/json`, { headers: jenkinsAuth })).json()) as { crumb: string };
    const released = await fetch(`${testEnv('JENKINS_URL')}/job/${job}/1/fake-release`, { method: 'POST', headers: { ...jenkinsAuth, 'Jenkins-Crumb': crumb } });
    expect(released.status).toBe(200);

    const resumed = await reach(jenkinsRun.id);
    expect(resumed.status).toBe('SUCCEEDED');
    const jenkinsBuild = await build(String((stage(resumed, 'ci').outputs as { buildId: string }).buildId));
    expect(logText(jenkinsBuild)).toMatch(/resuming build #1 after a restart of the build service/);
    // Jenkins saw one build of the job: the restart did not trigger another.
    const jobInfo = await fetch(`${testEnv('JENKINS_URL')}/job/${job}/api/json`, { headers: jenkinsAuth });
    expect(((await jobInfo.json()) as { nextBuildNumber: number }).nextBuildNumber).toBe(2);

    const failed = await reach(hostedRun.id);
    expect(failed.status).toBe('FAILED');
    expect(stage(failed, 'build').error).toMatch(/build service restarted/);
    // The restarted service killed what the dead one had left running (the build command's processes).
    expect(processesMentioning(String((stage(failed, 'build').outputs as { buildId: string }).buildId))).toEqual([]);
  });

  /** Processes whose command line names this build (its buildah container is pw-build-<buildId>). */
  function processesMentioning(buildId: string): string[] {
    const found: string[] = [];
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        if (cmd.includes(buildId)) found.push(`${pid}: ${cmd}`);
      } catch {
        // gone
      }
    }
    return found;
  }


});
