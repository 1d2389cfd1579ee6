// The Kubernetes deployment stages against the test environment's real kube-apiserver,
// controller-manager (which makes ReplicaSets and rollout revisions) and kubelet stand-in (which
// makes pods Ready, or fails the ones annotated to fail), through the whole platform.
import type { RunStatus } from '@pipewright/contracts';
import { Cluster, parseManifests } from '@pipewright/kube';
import { createGitRepository, hostPortOf, kubeAdmin, pipelineDriver, startPlatform, testEnv, waitFor, type TestPlatform } from '@pipewright/testing';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { HooksServer } from './hooks-server';

const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;
const TERMINAL: RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED'];
const BASE = () => testEnv('BASE_IMAGE');

interface StageOut {
  refId: string;
  status: string;
  error: string | null;
  outputs: Record<string, unknown> | null;
}
interface RunOut {
  id: string;
  status: RunStatus;
  reason: string | null;
  stages: StageOut[];
}
const RUN_FIELDS = 'id status reason sequence stages { refId status error outputs }';

/** A Deployment of `replicas` pods running `image`, plus a Service and a ConfigMap. */
function webApp(name: string, image: string, options: { replicas?: number; failPods?: string; namespace?: string; sidecar?: boolean } = {}): string {
  const annotations = options.failPods ? `\n      annotations:\n        testenv.pipewright.dev/fail: ${options.failPods}` : '';
  const ns = options.namespace ? `\n  namespace: ${options.namespace}` : '';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}${ns}
spec:
  replicas: ${options.replicas ?? 2}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }${annotations}
    spec:
      containers:
        - name: web
          image: ${image}${options.sidecar ? `
        - name: sidecar
          image: ${image}` : ''}
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}${ns}
spec:
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}-settings${ns}
data:
  greeting: hello
`;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, out, errOut) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${errOut || err.message}`)) : resolve(out))));
}

describe('Kubernetes deployment stages (real kube-apiserver, controller-manager and kubelet stand-in)', () => {
  let platform: TestPlatform;
  let admin: string;
  let dev: string;
  let cluster: Cluster;
  const hooks = new HooksServer();
  const namespaces: string[] = [];

  const { ok, pipeline, start, read, reach, stage } = pipelineDriver<RunOut>(() => platform.gatewayUrl, () => dev, RUN_FIELDS, { label: 'deploy' });
  const target = async (namespace: string, token = testEnv('KUBE_TOKEN')) =>
    (
      await ok<{ createDeploymentTarget: { id: string } }>(
        `mutation($i: CreateDeploymentTargetInput!) { createDeploymentTarget(input: $i) { id } }`,
        { i: { name: unique('cluster'), apiServerUrl: testEnv('KUBE_API_URL'), caCertificate: readFileSync(testEnv('KUBE_CA_FILE'), 'utf8'), token, defaultNamespace: namespace } },
        admin,
      )
    ).createDeploymentTarget.id;
  const namespace = async () => {
    const name = unique('pw-kube');
    await cluster.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }]);
    namespaces.push(name);
    return name;
  };
  const kubeGet = async (path: string) => {
    const res = await kubeAdmin('GET', path);
    return { status: res.status, json: async () => res.body };
  };
  const deployment = async (ns: string, name: string) => {
    const res = await kubeGet(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
    return res.status === 404 ? null : ((await res.json()) as { metadata: { labels?: Record<string, string>; annotations: Record<string, string> }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } }; status: { readyReplicas?: number; updatedReplicas?: number } });
  };
  const deploy = (targetId: string, manifest: string, extra: Record<string, unknown> = {}) => ({ refId: 'deploy', name: 'deploy', type: 'DEPLOY', config: { targetId, manifest, ...extra } });

  beforeAll(async () => {
    await hooks.start();
    platform = await startPlatform('kube', {}, {}, { outbound: [hostPortOf(hooks.url)] });
    admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    dev = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    cluster = new Cluster({ apiServerUrl: testEnv('KUBE_API_URL'), caCertificate: readFileSync(testEnv('KUBE_CA_FILE'), 'utf8'), insecureSkipTlsVerify: false, token: testEnv('KUBE_TOKEN'), clientCertificate: null, clientKey: null, defaultNamespace: 'default' });
  });
  afterAll(async () => {
    for (const ns of namespaces) await cluster.delete({ kind: 'Namespace', name: ns }, 'BACKGROUND').catch(() => undefined);
    await platform?.stop();
    await hooks.stop();
  });

  it('deploys a Deployment, Service and ConfigMap from text, waits for Ready pods, and a new image makes revision 2', async () => {
    const ns = await namespace();
    const id = await pipeline([deploy(await target(ns), webApp('web', '${parameters.image}'))], [{ name: 'image', required: true }]);
    const first = await reach((await start(id, { image: `${BASE()}` })).id);
    expect(first.status).toBe('SUCCEEDED');
    const out = stage(first, 'deploy').outputs as { resources: { kind: string; name: string; namespace: string; revision?: number }[] };
    expect(out.resources).toEqual([
      expect.objectContaining({ kind: 'Deployment', name: 'web', namespace: ns, revision: 1 }),
      expect.objectContaining({ kind: 'Service', name: 'web', namespace: ns }),
      expect.objectContaining({ kind: 'ConfigMap', name: 'web-settings', namespace: ns }),
    ]);
    // The stage ended only once the pods were Ready.
    expect((await deployment(ns, 'web'))!.status).toMatchObject({ readyReplicas: 2, updatedReplicas: 2 });
    expect((await kubeGet(`/api/v1/namespaces/${ns}/services/web`)).status).toBe(200);
    expect((await kubeGet(`/api/v1/namespaces/${ns}/configmaps/web-settings`)).status).toBe(200);

    const second = await reach((await start(id, { image: `${BASE()}-v2` })).id);
    expect(second.status).toBe('SUCCEEDED');
    expect((stage(second, 'deploy').outputs as { resources: { revision?: number }[] }).resources[0].revision).toBe(2);
    expect((await deployment(ns, 'web'))!.spec.template.spec.containers[0].image).toBe(`${BASE()}-v2`);
  });

  it('deploys a manifest artifact an earlier stage produced', async () => {
    const ns = await namespace();
    const targetId = await target(ns);
    const id = await pipeline([
      // A webhook stands in for a bake: its answer carries the manifest, its end condition makes the artifact.
      { refId: 'bake', name: 'bake', type: 'WEBHOOK', config: { url: `${hooks.url}/ok/bake`, method: 'POST', body: { manifest: webApp('baked', BASE(), { replicas: 1 }) } }, endCondition: { artifacts: [{ name: 'manifest', from: 'body.received.manifest' }] } },
      { refId: 'deploy', name: 'deploy', type: 'DEPLOY', dependsOn: ['bake'], config: { targetId, manifestArtifact: 'manifest' } },
    ]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('SUCCEEDED');
    expect((await deployment(ns, 'baked'))!.status.readyReplicas).toBe(1);
  });

  it('deploys a manifest file from a source repository, and names a missing file', async () => {
    const ns = await namespace();
    const targetId = await target(ns);
    const repo = await createGitRepository(unique('manifests'), { 'k8s/app.yaml': webApp('fromgit', BASE(), { replicas: 1 }) });
    try {
      const repositoryId = (
        await ok<{ createSourceRepository: { id: string } }>(
          `mutation($i: CreateSourceRepositoryInput!) { createSourceRepository(input: $i) { id } }`,
          { i: { name: unique('repo'), provider: 'GITLAB', url: repo.url, defaultBranch: 'main', token: testEnv('GIT_TOKEN') } },
          admin,
        )
      ).createSourceRepository.id;
      const id = await pipeline([
        { refId: 'deploy', name: 'deploy', type: 'DEPLOY', config: { targetId, manifestFile: { repositoryId, path: 'k8s/app.yaml' } } },
        { refId: 'missing', name: 'missing', type: 'DEPLOY', dependsOn: ['deploy'], failurePolicy: 'CONTINUE', config: { targetId, manifestFile: { repositoryId, path: 'k8s/nope.yaml' } } },
      ]);
      const done = await reach((await start(id)).id);
      expect(done.status).toBe('SUCCEEDED');
      expect(stage(done, 'deploy').outputs).toMatchObject({ manifestSource: expect.stringContaining('k8s/app.yaml') });
      expect((await deployment(ns, 'fromgit'))!.status.readyReplicas).toBe(1);
      expect(stage(done, 'missing')).toMatchObject({ status: 'FAILED_CONTINUE', error: expect.stringMatching(/has no file "k8s\/nope.yaml" on branch main/) });
    } finally {
      repo.remove();
    }
  });

  it('resolves {BUILD_NUMBER} to the highest tag of that format in the real registry', async () => {
    const ns = await namespace();
    const repo = `${testEnv('REGISTRY_URL')}/${unique('team')}/app`;
    for (const n of [3, 12, 9]) await run(testEnv('SKOPEO_BIN'), ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${BASE()}`, `docker://${repo}:_${n}`]);
    const id = await pipeline([deploy(await target(ns), webApp('numbered', `${repo}:_{BUILD_NUMBER}`, { replicas: 1 }))]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('SUCCEEDED');
    expect((await deployment(ns, 'numbered'))!.spec.template.spec.containers[0].image).toBe(`${repo}:_12`);
    expect((stage(done, 'deploy').outputs as { images: { to: string }[] }).images).toEqual([expect.objectContaining({ to: `${repo}:_12` })]);
  });

  it('patches with each strategy, scales to 5 ready, and deletes with each propagation policy', async () => {
    const ns = await namespace();
    const targetId = await target(ns);
    const resource = { targetId, kind: 'Deployment', name: 'web' };
    const id = await pipeline([
      deploy(targetId, webApp('web', BASE(), { replicas: 1, sidecar: true }) + `---\n${webApp('keep', BASE(), { replicas: 1 })}---\n${webApp('fore', BASE(), { replicas: 1 })}`),
      { refId: 'strategic', name: 'strategic', type: 'PATCH', dependsOn: ['deploy'], config: { ...resource, strategy: 'STRATEGIC', patch: { spec: { template: { spec: { containers: [{ name: 'web', image: `${BASE()}-patched` }] } } } } } },
      { refId: 'merge', name: 'merge', type: 'PATCH', dependsOn: ['strategic'], config: { ...resource, strategy: 'MERGE', patch: 'metadata:\n  labels:\n    tier: frontend\n' } },
      { refId: 'json', name: 'json', type: 'PATCH', dependsOn: ['merge'], config: { ...resource, strategy: 'JSON', patch: [{ op: 'add', path: '/metadata/annotations/team', value: 'payments' }] } },
      { refId: 'scale', name: 'scale', type: 'SCALE', dependsOn: ['json'], config: { ...resource, replicas: 5 } },
    ]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('SUCCEEDED');
    const web = (await deployment(ns, 'web'))!;
    // Strategic merge matched the container by name and kept the sidecar (a merge patch would have replaced the list).
    expect(web.spec.template.spec.containers.map((c) => (c as { name?: string }).name)).toEqual(['web', 'sidecar']);
    expect(web.spec.template.spec.containers[0].image).toBe(`${BASE()}-patched`);
    expect(web.metadata.labels).toMatchObject({ tier: 'frontend' });
    expect(web.metadata.annotations).toMatchObject({ team: 'payments' });
    expect(web.spec.replicas).toBe(5);
    expect(web.status.readyReplicas).toBe(5);

    const replicaSets = async (app: string) => {
      const res = await kubeGet(`/apis/apps/v1/namespaces/${ns}/replicasets?labelSelector=app%3D${app}`);
      return ((await res.json()) as { items: unknown[] }).items.length;
    };
    expect(await replicaSets('keep')).toBeGreaterThan(0);
    const del = (refId: string, name: string, propagationPolicy: string, dependsOn?: string[]) => ({ refId, name: refId, type: 'DELETE', dependsOn, config: { targetId, kind: 'Deployment', name, propagationPolicy } });
    const deletes = await pipeline([del('background', 'web', 'BACKGROUND'), del('orphan', 'keep', 'ORPHAN'), del('foreground', 'fore', 'FOREGROUND'), del('gone', 'never-was', 'BACKGROUND')]);
    const deleted = await reach((await start(deletes)).id);
    expect(deleted.status).toBe('SUCCEEDED');
    for (const name of ['web', 'keep', 'fore']) expect(await deployment(ns, name)).toBeNull();
    expect(stage(deleted, 'gone').outputs).toMatchObject({ deleted: false, note: expect.stringMatching(/already gone/) });
    // FOREGROUND: the Deployment went only after its ReplicaSets; ORPHAN: the ReplicaSet stays; BACKGROUND: the collector removes it.
    expect(await replicaSets('fore')).toBe(0);
    expect(await replicaSets('keep')).toBeGreaterThan(0);
    await waitFor('the background-deleted ReplicaSets to be collected', async () => (await replicaSets('web')) === 0 || undefined, 60_000);
  });

  it('times out a rollout the stand-in keeps failing, naming the pod and its reason', async () => {
    const ns = await namespace();
    const id = await pipeline([deploy(await target(ns), webApp('broken', BASE(), { replicas: 1, failPods: 'CrashLoopBackOff' }), { stableTimeoutSeconds: 10 })]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('FAILED');
    const error = stage(done, 'deploy').error!;
    expect(error).toMatch(/not stable within 10 s/);
    expect(error).toMatch(/deployment broken in namespace/);
    expect(error).toMatch(/pod broken-[a-z0-9]+-[a-z0-9]+: .*CrashLoopBackOff/);
  });

  it('stops waiting for a rollout when the run is cancelled, and says the cluster was left as it is', async () => {
    const ns = await namespace();
    const id = await pipeline([deploy(await target(ns), webApp('stuck', BASE(), { replicas: 1, failPods: 'ImagePullBackOff' }), { stableTimeoutSeconds: 600 })]);
    const r = await start(id);
    await waitFor('the deploy to be waiting for its rollout', async () => ((await deployment(ns, 'stuck')) ? true : undefined));
    await ok(`mutation($r: ID!) { cancelRun(runId: $r, reason: "changed my mind") { status } }`, { r: r.id });
    const done = await reach(r.id);
    expect(done.status).toBe('CANCELED');
    expect(stage(done, 'deploy')).toMatchObject({ status: 'CANCELED', error: expect.stringMatching(/changed my mind.*the cluster is left as it is/) });
    expect(await deployment(ns, 'stuck')).not.toBeNull();
  });

  it('explains a 403: a token whose RBAC lacks patch on deployments', async () => {
    const ns = await namespace();
    await cluster.apply([
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'limited', namespace: ns } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'no-patch', namespace: ns }, rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'limited', namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'no-patch' }, subjects: [{ kind: 'ServiceAccount', name: 'limited', namespace: ns }] },
    ]);
    await cluster.apply(parseManifests(webApp('web', BASE(), { replicas: 1 })).slice(0, 1), ns);
    const token = await waitFor('the service account token', async () => {
      const res = await kubeGet(`/api/v1/namespaces/${ns}/secrets`);
      const secret = ((await res.json()) as { items: { type: string; metadata: { annotations?: Record<string, string> }; data?: { token?: string } }[] }).items.find(
        (s) => s.type === 'kubernetes.io/service-account-token' && s.metadata.annotations?.['kubernetes.io/service-account.name'] === 'limited' && s.data?.token,
      );
      return secret ? Buffer.from(secret.data!.token!, 'base64').toString('utf8') : undefined;
    });
    const id = await pipeline([{ refId: 'patch', name: 'patch', type: 'PATCH', config: { targetId: await target(ns, token), kind: 'Deployment', name: 'web', patch: { metadata: { labels: { a: 'b' } } } } }]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('FAILED');
    const error = stage(done, 'patch').error!;
    expect(error).toMatch(/forbidden/i);
    expect(error).toMatch(/patch/);
    expect(error).toMatch(/deployments/);
    expect(error).toContain(ns);
    expect(error).not.toContain(token);
  });

  it('runs DEPLOY → JUDGEMENT → (MATCHED: SCALE) / (UNMATCHED: ROLLOUT_UNDO) end to end, watched with runUpdated', async () => {
    const ns = await namespace();
    const targetId = await target(ns);
    const resource = { targetId, kind: 'Deployment', name: 'shop' };
    const id = await pipeline(
      [
        deploy(targetId, webApp('shop', '${parameters.image}', { replicas: 1 })),
        { refId: 'verdict', name: 'verdict', type: 'JUDGEMENT', dependsOn: ['deploy'], config: { options: ['scale', 'rollback'] } },
        { refId: 'isScale', name: 'isScale', type: 'PRECONDITION', dependsOn: ['verdict'], config: { judgementRefId: 'verdict', values: ['scale'], mode: 'MATCHED' } },
        { refId: 'isRollback', name: 'isRollback', type: 'PRECONDITION', dependsOn: ['verdict'], config: { judgementRefId: 'verdict', values: ['scale'], mode: 'UNMATCHED' } },
        { refId: 'scale', name: 'scale', type: 'SCALE', dependsOn: ['isScale'], config: { ...resource, replicas: 5 } },
        { refId: 'undo', name: 'undo', type: 'ROLLOUT_UNDO', dependsOn: ['isRollback'], config: { ...resource, revisionsBack: 1 } },
      ],
      [{ name: 'image', required: true }],
    );
    const watch = async (image: string, decision: string) => {
      const r = await start(id, { image });
      const client = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${dev}` }, retryAttempts: 0 });
      const seen: { status: string; sequence: number; stages: { refId: string; status: string }[] }[] = [];
      try {
        const finished = new Promise<void>((resolve, reject) =>
          client.subscribe<{ runUpdated: (typeof seen)[number] }>(
            { query: `subscription($id: ID!) { runUpdated(runId: $id, afterSequence: 0) { status sequence stages { refId status } } }`, variables: { id: r.id } },
            {
              next: (v) => {
                if (v.errors) return reject(new Error(JSON.stringify(v.errors)));
                seen.push(v.data!.runUpdated);
                if (v.data!.runUpdated.stages.find((s) => s.refId === 'verdict')?.status === 'WAITING' && v.data!.runUpdated.status === 'WAITING') {
                  void ok(`mutation($r: ID!, $v: String) { judge(runId: $r, refId: "verdict", decision: CONTINUE, value: $v) { status } }`, { r: r.id, v: decision }).catch(reject);
                }
                if (TERMINAL.includes(v.data!.runUpdated.status as RunStatus)) resolve();
              },
              error: reject,
              complete: () => undefined,
            },
          ),
        );
        await finished;
      } finally {
        await client.dispose();
      }
      // Every state, in order, from the first: QUEUED ... to the end.
      expect(seen.map((u) => u.sequence)).toEqual(seen.map((_, i) => i + 1));
      return { run: await read(r.id), seen };
    };

    const scaled = await watch(BASE(), 'scale');
    expect(scaled.run.status).toBe('SUCCEEDED');
    expect(Object.fromEntries(scaled.run.stages.map((s) => [s.refId, s.status]))).toMatchObject({ deploy: 'SUCCEEDED', isScale: 'SUCCEEDED', scale: 'SUCCEEDED', undo: 'SKIPPED' });
    expect(scaled.seen.some((u) => u.stages.find((s) => s.refId === 'scale')?.status === 'RUNNING')).toBe(true);
    expect((await deployment(ns, 'shop'))!.status.readyReplicas).toBe(5);

    const rolledBack = await watch(`${BASE()}-v2`, 'rollback');
    expect(rolledBack.run.status).toBe('SUCCEEDED');
    expect(Object.fromEntries(rolledBack.run.stages.map((s) => [s.refId, s.status]))).toMatchObject({ deploy: 'SUCCEEDED', scale: 'SKIPPED', undo: 'SUCCEEDED' });
    expect(stage(rolledBack.run, 'undo').outputs).toMatchObject({ fromRevision: 2, toRevision: 1, resources: [expect.objectContaining({ revision: 3 })] });
    const shop = (await deployment(ns, 'shop'))!;
    expect(shop.spec.template.spec.containers[0].image).toBe(BASE());
    expect(shop.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
  });

  it('fails a rollout undo that goes back further than the history, naming the revisions there are', async () => {
    const ns = await namespace();
    const targetId = await target(ns);
    const id = await pipeline([
      deploy(targetId, webApp('short', BASE(), { replicas: 1 })),
      { refId: 'undo', name: 'undo', type: 'ROLLOUT_UNDO', dependsOn: ['deploy'], config: { targetId, kind: 'Deployment', name: 'short', revisionsBack: 3 } },
    ]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('FAILED');
    expect(stage(done, 'undo').error).toMatch(/revisions 1\b.*cannot go back 3/);
  });
});
