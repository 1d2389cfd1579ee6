// IMAGE_PUSH triggers: `skopeo copy` of an image into a distribution registry whose
// notifications.endpoints names the trigger's hook starts a pipeline whose DEPLOY runs the pushed
// digest on the test cluster; a registry that cannot notify is polled instead.
import { freePort, kubeAdmin, pipelineDriver, startPlatform, testEnv, waitFor, type TestPlatform } from '@pipewright/testing';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Run = { id: string; status: string; reason: string | null; artifacts: Record<string, { type: string; reference: string; digest: string; tag: string }>; trigger: { type: string; summary: string } | null; stages: { refId: string; status: string }[] };

const run = (cmd: string, args: string[]) =>
  new Promise<string>((resolve, reject) => execFile(cmd, args, { env: { ...process.env, HOME: tmpdir() } }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout.trim()))));
const copy = (to: string) => run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${testEnv('BASE_IMAGE')}`, `docker://${to}`]);
const digestOf = async (ref: string) => (JSON.parse(await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])) as { Digest: string }).Digest;

describe('IMAGE_PUSH triggers', () => {
  let platform: TestPlatform;
  let token: string;
  let registry: ChildProcess | undefined;
  let dir: string;
  const suffix = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const namespace = `pw-trig-${suffix}`;
  const d = pipelineDriver<Run>(() => platform.gatewayUrl, () => token, 'id status reason artifacts trigger { type summary } stages { refId status }', { label: 'image' });
  const create = async (kind: string, input: Record<string, unknown>) => (await d.ok<Record<string, { id: string }>>(`mutation($i: Create${kind}Input!) { create${kind}(input: $i) { id } }`, { i: input }))[`create${kind}`].id;
  const deliveries = async (triggerId: string) =>
    (await d.ok<{ trigger: { deliveries: { edges: { node: { outcome: string; reason: string | null; runId: string | null; providerDeliveryId: string | null } }[] } } }>(
      `query($id: ID!) { trigger(id: $id) { deliveries(first: 50) { edges { node { outcome reason runId providerDeliveryId } } } } }`,
      { id: triggerId },
    )).trigger.deliveries.edges.map((e) => e.node);

  beforeAll(async () => {
    platform = await startPlatform('image-push', {}, { triggers: { LEADER_RETRY_MS: '300' } });
    token = await platform.token({ sub: 'alice', roles: ['ADMIN'] });
    dir = mkdtempSync(join(tmpdir(), 'pw-notify-registry-'));
    expect((await kubeAdmin('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })).status).toBe(201);
  });
  afterAll(async () => {
    registry?.kill('SIGTERM');
    await kubeAdmin('DELETE', `/api/v1/namespaces/${namespace}`).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
    await platform?.stop();
  });

  it('a push announced by the registry starts the pipeline, whose DEPLOY runs the pushed digest', async () => {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const registryId = await create('ImageRegistry', { name: `notify-${suffix}`, url: host, insecure: true });
    const targetId = await create('DeploymentTarget', { name: `cluster-${suffix}`, apiServerUrl: testEnv('KUBE_API_URL'), caCertificate: readFileSync(testEnv('KUBE_CA_FILE'), 'utf8'), token: testEnv('KUBE_TOKEN'), defaultNamespace: namespace });
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: { name: app }
spec:
  replicas: 1
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec:
      containers: [{ name: app, image: "${host}/team/app:latest" }]
`;
    const pipelineId = await d.pipeline([{ refId: 'deploy', name: 'Deploy', type: 'DEPLOY', config: { targetId, namespace, manifest, stableTimeoutSeconds: 300 } }], [{ name: 'tag' }]);
    const { createTrigger: t } = await d.ok<{ createTrigger: { trigger: { id: string; hookUrl: string }; secret: string } }>(
      `mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { trigger { id hookUrl } secret } }`,
      { i: { pipelineId, type: 'IMAGE_PUSH', name: 'on app images', config: { registryId, repository: 'team/*', tag: 'v*', parameters: { tag: '${image.tag}' } } } },
    );
    // The registry tells the trigger's hook of every push (distribution's notifications.endpoints).
    writeFileSync(
      join(dir, 'config.yml'),
      `version: 0.1
log: { level: info }
storage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }
http: { addr: "${host}" }
notifications:
  endpoints:
    - name: pipewright
      url: ${t.trigger.hookUrl}
      headers: { Authorization: ["Bearer ${t.secret}"] }
      timeout: 5s
      threshold: 5
      backoff: 1s
`,
    );
    const logFd = openSync(join(dir, 'registry.log'), 'a');
    registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', logFd, logFd] });
    await waitFor('the notifying registry', async () => ((await fetch(`http://${host}/v2/`).catch(() => null))?.ok ? true : undefined), 30_000);

    await copy(`${host}/team/app:latest`); // not a v* tag: ignored
    await copy(`${host}/team/app:v1.0`);
    const digest = await digestOf(`${host}/team/app:v1.0`);
    const started = await waitFor('the push of v1.0 to start a run', async () => (await deliveries(t.trigger.id)).find((x) => x.outcome === 'STARTED'), 60_000).catch(async (err) => {
      throw new Error(`${(err as Error).message}; deliveries: ${JSON.stringify(await deliveries(t.trigger.id))}; the registry's log: ${readFileSync(join(dir, 'registry.log'), 'utf8').slice(-3000)}`);
    });
    const done = await waitFor('the run to end', async () => {
      const r = await d.read(started.runId!);
      return r && ['SUCCEEDED', 'FAILED'].includes(r.status) ? r : undefined;
    }, 300_000);
    expect(done).toMatchObject({ status: 'SUCCEEDED', trigger: { type: 'IMAGE_PUSH', summary: `image team/app:v1.0 pushed: ${digest.slice(0, 19)}` } });
    expect(done.artifacts.image).toMatchObject({ type: 'docker/image', reference: `${host}/team/app:v1.0@${digest}`, digest, tag: 'v1.0' });
    const deployment = await kubeAdmin<{ spec: { template: { spec: { containers: { image: string }[] } } } }>('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/app`);
    expect(deployment.body.spec.template.spec.containers[0].image).toBe(`${host}/team/app:v1.0@${digest}`);
    const all = await deliveries(t.trigger.id);
    expect(all.filter((x) => x.outcome === 'STARTED')).toHaveLength(1);
    expect(all.some((x) => x.outcome === 'IGNORED' && /tag "latest" of team\/app does not match "v\*"/.test(x.reason ?? ''))).toBe(true);
  });

  it('a registry that cannot notify is polled: a new tag starts a run, what was there before does not', async () => {
    const repository = `poll-${suffix}/app`;
    await copy(`${testEnv('REGISTRY_URL')}/${repository}:old`);
    const registryId = await create('ImageRegistry', { name: `poll-${suffix}`, url: testEnv('REGISTRY_URL'), insecure: true });
    const pipelineId = await d.pipeline([{ refId: 'wait', name: 'Wait', type: 'JUDGEMENT', config: { description: 'go?', options: ['go'] } }]);
    const { createTrigger: t } = await d.ok<{ createTrigger: { trigger: { id: string } } }>(`mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { trigger { id } } }`, {
      i: { pipelineId, type: 'IMAGE_PUSH', name: 'polled', config: { registryId, repository, tag: '*', pollIntervalSeconds: 5 } },
    });
    // The first poll learns what is there (the trigger records when it polled).
    await waitFor('the first poll', async () => {
      const rows = await import('@pipewright/testing').then((m) => m.serviceQuery<{ polled_at: Date | null }>(platform, 'triggers', 'SELECT polled_at FROM triggers WHERE id = $1', [t.trigger.id]));
      return rows[0]?.polled_at ? true : undefined;
    }, 30_000);
    await copy(`${testEnv('REGISTRY_URL')}/${repository}:new`);
    const digest = await digestOf(`${testEnv('REGISTRY_URL')}/${repository}:new`);
    const started = await waitFor('a poll to find the new tag', async () => (await deliveries(t.trigger.id)).find((x) => x.outcome === 'STARTED'), 60_000);
    expect(started.providerDeliveryId).toBeNull();
    const r = await waitFor('its run', async () => (await d.read(started.runId!)) ?? undefined, 60_000);
    expect(r.artifacts.image).toMatchObject({ reference: `${testEnv('REGISTRY_URL')}/${repository}:new@${digest}`, tag: 'new' });
    expect((await deliveries(t.trigger.id)).filter((x) => x.outcome === 'STARTED')).toHaveLength(1);
  });
});
