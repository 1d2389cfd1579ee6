// @pipewright/kube against the test environment's real kube-apiserver, controller-manager (which
// makes ReplicaSets, rollout revisions and garbage collection real) and kubelet stand-in (which
// binds pods and marks them Ready, or fails them on request), and its real image registries.
// Each test works in namespaces of its own, deleted at the end.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Cluster, KubeError, kubeConfigFor, parseManifests, substituteImages, type ClusterTarget, type ResourceRef, type Stability } from '../src';
import { testEnv, uniquePrefix, waitFor } from '@pipewright/testing';

const run = promisify(execFile);
const FAIL_ANNOTATION = 'testenv.pipewright.dev/fail';

const adminTarget = (defaultNamespace = 'default'): ClusterTarget => ({
  name: 'testenv',
  apiServerUrl: testEnv('KUBE_API_URL'),
  caCertificate: readFileSync(testEnv('KUBE_CA_FILE'), 'utf8'),
  insecureSkipTlsVerify: false,
  token: testEnv('KUBE_TOKEN'),
  clientCertificate: null,
  clientKey: null,
  defaultNamespace,
});

const admin = () => new Cluster(adminTarget());
const created: string[] = [];

/** A namespace of the test's own (applied through the library: a cluster-scoped kind). */
async function newNamespace(label: string): Promise<string> {
  const name = uniquePrefix(label);
  const [ns] = await admin().apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'pipewright.dev/test': 'kube' } } }], 'ignored-for-cluster-scoped');
  expect(ns).toMatchObject({ apiVersion: 'v1', kind: 'Namespace', name, namespace: null });
  created.push(name);
  return name;
}

afterAll(async () => {
  await Promise.all(created.map((name) => admin().delete({ kind: 'Namespace', name }, 'BACKGROUND')));
});

const deploymentYaml = (name: string, image: string, opts: { replicas?: number; annotations?: Record<string, string>; progressDeadlineSeconds?: number } = {}) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${opts.replicas ?? 1}
${opts.progressDeadlineSeconds ? `  progressDeadlineSeconds: ${opts.progressDeadlineSeconds}\n` : ''}  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
${opts.annotations ? `      annotations: ${JSON.stringify(opts.annotations)}\n` : ''}    spec:
      containers:
        - name: main
          image: ${image}
          command: [sleep, "3600"]
        - name: sidecar
          image: ${testEnv('BASE_IMAGE')}
          command: [sleep, "3600"]
`;

const image = (tag: string) => testEnv('BASE_IMAGE').replace(/:[^:/]+$/, `:${tag}`);

/** Polls stability() until the resource is stable; returns every answer seen, the stable one last. */
async function untilStable(cluster: Cluster, ref: ResourceRef, timeoutMs = 60_000): Promise<Stability[]> {
  const seen: Stability[] = [];
  await waitFor(
    `${ref.kind} ${ref.name} to be stable`,
    async () => {
      const s = await cluster.stability(ref);
      seen.push(s);
      return s.stable;
    },
    timeoutMs,
  );
  return seen;
}

async function kubeError(p: Promise<unknown>): Promise<KubeError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KubeError) return err;
    throw err;
  }
  throw new Error('expected a KubeError');
}

function appsApi(): k8s.AppsV1Api {
  return kubeConfigFor(adminTarget()).makeApiClient(k8s.AppsV1Api);
}

/** The ReplicaSets a Deployment owns (by uid), as the admin sees them. */
async function replicaSetsOf(ns: string, deployment: string): Promise<k8s.V1ReplicaSet[]> {
  const { body: dep } = await appsApi().readNamespacedDeployment(deployment, ns);
  const { body } = await appsApi().listNamespacedReplicaSet(ns);
  return body.items.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === dep.metadata?.uid));
}

describe('@pipewright/kube against a real kube-apiserver', () => {
  it('applies a Deployment, Service and ConfigMap into the namespace given, stable at revision 1, then revision 2 after a new image', async () => {
    const ns = await newNamespace('apply');
    const cluster = new Cluster(adminTarget('default'));
    const text = `${deploymentYaml('web', image('1.35'), { replicas: 2 })}---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
# comments-only documents are skipped
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-settings}
data: {greeting: hello}
`;
    const applied = await cluster.apply(parseManifests(text), ns);
    expect(applied).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns, generation: 1 },
      { apiVersion: 'v1', kind: 'Service', name: 'web', namespace: ns },
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'web-settings', namespace: ns },
    ]);

    // With the stand-in a rollout settles within tens of milliseconds, so the first poll may already see it.
    const first = await untilStable(cluster, applied[0]);
    expect(first.at(-1)).toEqual({ stable: true, summary: '2 of 2 replicas ready (revision 1)', revision: 1, notReady: [] });
    expect(await cluster.stability(applied[1])).toEqual({ stable: true, summary: `service web in namespace ${ns} exists`, notReady: [] });

    // The same text again changes nothing: same generation, and the revision is already settled.
    const again = await cluster.apply(parseManifests(text), ns);
    expect(again[0]).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns, generation: 1, revision: 1 });

    const updated = await cluster.apply(parseManifests(text.replace(image('1.35'), image('1.35-next'))), ns);
    expect(updated[0]).toMatchObject({ kind: 'Deployment', generation: 2 });
    expect(updated[0].revision).toBeUndefined();
    const second = await untilStable(cluster, updated[0]);
    expect(second.at(-1)).toMatchObject({ stable: true, revision: 2 });
    const dep = (await cluster.read(applied[0])) as { spec: { template: { spec: { containers: { image: string }[] } } }; metadata: { managedFields: { manager: string; operation: string }[] } };
    expect(dep.spec.template.spec.containers[0].image).toBe(image('1.35-next'));
    expect(dep.metadata.managedFields).toContainEqual(expect.objectContaining({ manager: 'pipewright', operation: 'Apply' }));
    expect((await cluster.read({ kind: 'ConfigMap', name: 'web-settings', namespace: ns })).data).toEqual({ greeting: 'hello' });
  });

  it('puts a namespaced document in the namespace argument, else its own, else the target default; cluster-scoped kinds in none', async () => {
    const [fallback, own, arg] = await Promise.all([newNamespace('nsdefault'), newNamespace('nsown'), newNamespace('nsarg')]);
    const cluster = new Cluster(adminTarget(fallback));
    const role = uniquePrefix('role');
    const docs = parseManifests(`apiVersion: v1
kind: ConfigMap
metadata: {name: plain}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: placed, namespace: ${own}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ${role}, namespace: ${own}}
rules: []
`);
    try {
      expect((await cluster.apply(docs)).map((r) => r.namespace)).toEqual([fallback, own, null]);
      expect((await cluster.apply(docs, arg)).map((r) => r.namespace)).toEqual([arg, arg, null]);
      const where = async (name: string) => {
        const found: string[] = [];
        for (const ns of [fallback, own, arg]) if (await cluster.exists({ kind: 'ConfigMap', name, namespace: ns })) found.push(ns);
        return found;
      };
      expect(await where('plain')).toEqual([fallback, arg]);
      expect(await where('placed')).toEqual([own, arg]);
      expect(await cluster.exists({ kind: 'ClusterRole', name: role })).toBe(true);
      // A reference without a namespace means the target's default; kinds may be written loosely.
      expect(await cluster.exists({ kind: 'configmap', name: 'plain' })).toBe(true);
      expect(await cluster.exists({ kind: 'cm', name: 'placed' })).toBe(false);
    } finally {
      await cluster.delete({ kind: 'ClusterRole', name: role }, 'BACKGROUND');
    }
  });

  describe('image substitution with the real registries', () => {
    const repo = `kube-test/${uniquePrefix('img')}`;
    const registry = () => testEnv('REGISTRY_URL');
    const container = (docs: Record<string, unknown>[]) => (docs[0] as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0].image;

    beforeAll(async () => {
      for (const tag of ['_3', '_12', '_9', 'latest']) {
        await run(testEnv('SKOPEO_BIN'), ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${testEnv('BASE_IMAGE')}`, `docker://${registry()}/${repo}:${tag}`], { timeout: 60_000 });
      }
    }, 240_000);

    it('replaces {BUILD_NUMBER} with the highest build tag in the registry', async () => {
      const { docs, replaced } = await substituteImages(parseManifests(deploymentYaml('web', `${registry()}/${repo}:_{BUILD_NUMBER}`)), { images: [] });
      expect(container(docs)).toBe(`${registry()}/${repo}:_12`);
      expect(replaced).toEqual([
        {
          from: `${registry()}/${repo}:_{BUILD_NUMBER}`,
          to: `${registry()}/${repo}:_12`,
          reason: `highest tag of ${registry()}/${repo} matching "_{BUILD_NUMBER}" (build 12)`,
          where: 'document 1 (Deployment web) container main',
        },
      ]);
    });

    it('lists tags of the authenticated registry with credentials, and says what is missing without them', async () => {
      const authed = testEnv('REGISTRY_AUTH_URL');
      const docs = parseManifests(deploymentYaml('web', `${authed}/${repo}:_{BUILD_NUMBER}`));
      const hosts: string[] = [];
      const withCreds = await substituteImages(docs, {
        images: [],
        credentials: async (host) => (hosts.push(host), { username: testEnv('REGISTRY_USER'), password: testEnv('REGISTRY_PASSWORD') }),
      });
      expect(container(withCreds.docs)).toBe(`${authed}/${repo}:_12`);
      expect(hosts).toEqual([authed]);

      const none = await kubeError(substituteImages(docs, { images: [], credentials: async () => null }));
      expect(none.status).toBe(401);
      expect(none.message).toBe(
        `registry ${authed} requires credentials to list the tags of ${repo} (401, WWW-Authenticate: Basic realm="pipewright-testenv"), and none are configured for ${authed}: add the registry with a user and password`,
      );
      const wrong = await kubeError(substituteImages(docs, { images: [], credentials: async () => ({ username: testEnv('REGISTRY_USER'), password: 'wrong' }) }));
      expect(wrong.message).toMatch(new RegExp(`^registry ${authed.replace(/\./g, '\\.')} refused the credentials of user ${testEnv('REGISTRY_USER')} to list the tags of ${repo}: HTTP 401`));
    });

    it('replaces the images of an image artifact\'s repository, and fails naming the tags when none matches', async () => {
      const docs = parseManifests(deploymentYaml('web', `${registry()}/${repo}:latest`));
      const { docs: out, replaced } = await substituteImages(docs, { images: [`${registry()}/${repo}:_9`] });
      expect(container(out)).toBe(`${registry()}/${repo}:_9`);
      expect(replaced.map((r) => [r.from, r.to])).toEqual([[`${registry()}/${repo}:latest`, `${registry()}/${repo}:_9`]]);
      expect(container(docs)).toBe(`${registry()}/${repo}:latest`);

      const err = await kubeError(substituteImages(parseManifests(deploymentYaml('web', `${registry()}/${repo}:v{BUILD_NUMBER}`)), { images: [] }));
      expect(err.message).toMatch(new RegExp(`^document 1 \\(Deployment web\\) container main: no tag of ${registry().replace(/\./g, '\\.')}/${repo} matches "v\\{BUILD_NUMBER\\}" \\(tags seen: [^)]+\\)$`));
      expect(/tags seen: ([^)]+)\)$/.exec(err.message)![1].split(', ').sort()).toEqual(['_12', '_3', '_9', 'latest']);
    });
  });

  it('patches with each strategy: strategic merges containers by name, merge sets labels, JSON replaces replicas', async () => {
    const ns = await newNamespace('patch');
    const cluster = new Cluster(adminTarget(ns));
    const [dep] = await cluster.apply(parseManifests(deploymentYaml('web', image('1.35'))));
    const ref = { kind: 'Deployment', name: 'web' };
    type Dep = { metadata: { labels: Record<string, string>; generation: number }; spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } } };

    const strategic = await cluster.patch(ref, { spec: { template: { spec: { containers: [{ name: 'main', image: image('patched') }] } } } }, 'STRATEGIC');
    expect(strategic).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns, generation: dep.generation! + 1 });
    let read = (await cluster.read(ref)) as Dep;
    expect(read.spec.template.spec.containers.map((c) => [c.name, c.image])).toEqual([
      ['main', image('patched')],
      ['sidecar', testEnv('BASE_IMAGE')],
    ]);

    await cluster.patch(ref, 'metadata:\n  labels:\n    tier: backend\n', 'MERGE');
    read = (await cluster.read(ref)) as Dep;
    expect(read.metadata.labels).toEqual({ app: 'web', tier: 'backend' });

    const json = await cluster.patch(ref, [{ op: 'replace', path: '/spec/replicas', value: 2 }], 'JSON');
    read = (await cluster.read(ref)) as Dep;
    expect(read.spec.replicas).toBe(2);
    expect(json.generation).toBe(read.metadata.generation);
    expect((await untilStable(cluster, ref)).at(-1)).toMatchObject({ stable: true, summary: '2 of 2 replicas ready (revision 2)' });

    const notAList = await kubeError(cluster.patch(ref, { op: 'replace' }, 'JSON'));
    expect(notAList.message).toBe('a JSON patch must be a list of operations like {op: replace, path: /spec/replicas, value: 2} (got object)');
    const badPath = await kubeError(cluster.patch(ref, '[{"op": "replace", "path": "/spec/nothing/here", "value": 1}]', 'JSON'));
    expect(badPath.status).toBe(422);
    expect(badPath.message).toBe(
      `invalid: the JSON patch does not apply to deployment web in namespace ${ns}: an operation's path does not exist (replace, remove and test need an existing path; add needs an existing parent) (cluster said: the server rejected our request due to an error in our request)`,
    );
    const missing = await kubeError(cluster.patch({ kind: 'Deployment', name: 'nope' }, { metadata: { labels: { a: 'b' } } }, 'MERGE'));
    expect(missing.message).toBe(`not found: deployment nope in namespace ${ns} (cluster said: deployments.apps "nope" not found)`);
    const noNamespace = await kubeError(cluster.patch({ kind: 'Deployment', name: 'web', namespace: `${ns}-missing` }, { metadata: { labels: { a: 'b' } } }, 'MERGE'));
    expect(noNamespace.message).toBe(`not found: namespace ${ns}-missing does not exist (create it first, or choose another namespace), so deployment web in namespace ${ns}-missing cannot be found`);
  });

  it('scales through the scale subresource, and stability reaches the new count', async () => {
    const ns = await newNamespace('scale');
    const cluster = new Cluster(adminTarget(ns));
    const [dep] = await cluster.apply(parseManifests(deploymentYaml('web', image('1.35'))));
    await untilStable(cluster, dep);
    const scaled = await cluster.scale({ kind: 'Deployment', name: 'web' }, 5);
    expect(scaled).toMatchObject({ kind: 'Deployment', name: 'web', namespace: ns, generation: 2 });
    const seen = await untilStable(cluster, scaled);
    expect(seen.at(-1)).toEqual({ stable: true, summary: '5 of 5 replicas ready (revision 1)', revision: 1, notReady: [] });

    await cluster.apply(parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n'));
    expect((await kubeError(cluster.scale({ kind: 'ConfigMap', name: 'c' }, 2))).message).toBe(
      `configmap c in namespace ${ns} cannot be scaled: configmaps has no scale subresource (Deployments, StatefulSets and ReplicaSets do)`,
    );
  });

  it('rolls a Deployment back one revision to its first image (revision 3), and names the revisions when asked to go too far', async () => {
    const ns = await newNamespace('undo');
    const cluster = new Cluster(adminTarget(ns));
    const ref = { kind: 'Deployment', name: 'web' };
    await untilStable(cluster, (await cluster.apply(parseManifests(deploymentYaml('web', image('first')))))[0]);
    await untilStable(cluster, (await cluster.apply(parseManifests(deploymentYaml('web', image('second')))))[0]);

    const undo = await cluster.rolloutUndo(ref, 1);
    expect(undo).toEqual({ fromRevision: 2, toRevision: 1, resource: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns, generation: 3 } });
    const read = (await cluster.read(ref)) as { spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: { image: string }[] } } } };
    expect(read.spec.template.spec.containers[0].image).toBe(image('first'));
    expect(read.spec.template.metadata.labels).toEqual({ app: 'web' }); // no pod-template-hash
    expect((await untilStable(cluster, undo.resource)).at(-1)).toMatchObject({ stable: true, revision: 3 });

    // The same undo repeated (same marker: a retried stage attempt) does not step back again.
    await untilStable(cluster, (await cluster.apply(parseManifests(deploymentYaml('web', image('fourth')))))[0]);
    const marked = await cluster.rolloutUndo(ref, 1, { marker: 'run-1/undo/1' });
    expect(marked).toMatchObject({ fromRevision: 4, toRevision: 3 });
    const again = await cluster.rolloutUndo(ref, 1, { marker: 'run-1/undo/1' });
    expect(again).toMatchObject({ fromRevision: 4, toRevision: 3 });
    const afterBoth = (await cluster.read(ref)) as { metadata: { annotations: Record<string, string> }; spec: { template: { spec: { containers: { image: string }[] } } } };
    expect(afterBoth.spec.template.spec.containers[0].image).toBe(image('first'));
    expect(afterBoth.metadata.annotations['pipewright.dev/rollout-undo']).toBe('run-1/undo/1;from=4;to=3');
    await untilStable(cluster, marked.resource);

    const tooFar = await kubeError(cluster.rolloutUndo(ref, 5));
    expect(tooFar.message).toBe('deployment web has revisions 2, 4, 5; cannot go back 5 from revision 5');
    await cluster.apply(parseManifests('apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n'));
    expect((await kubeError(cluster.rolloutUndo({ kind: 'Service', name: 'web' }, 1))).message).toBe(
      `rollout undo supports Deployments only; service web in namespace ${ns} is a Service (roll it back by applying its previous manifest)`,
    );
  });

  it('deletes with ORPHAN (the ReplicaSet stays), BACKGROUND (the garbage collector removes it), FOREGROUND (dependents first), and says when it was already gone', async () => {
    const ns = await newNamespace('delete');
    const cluster = new Cluster(adminTarget(ns));
    const names = ['orphan', 'background', 'foreground'];
    await cluster.apply(parseManifests(names.map((n) => deploymentYaml(n, image('1.35'))).join('---\n')));
    const rs: Record<string, string> = {};
    for (const n of names) {
      await untilStable(cluster, { kind: 'Deployment', name: n });
      const [owned] = await replicaSetsOf(ns, n);
      rs[n] = owned.metadata!.name!;
    }
    const gone = (kind: string, name: string) => waitFor(`${kind} ${name} to be gone`, async () => !(await cluster.exists({ kind, name })), 60_000);

    expect(await cluster.delete({ kind: 'Deployment', name: 'orphan' }, 'ORPHAN')).toEqual({
      deleted: true,
      note: `deployment orphan in namespace ${ns} deleted (propagation Orphan: its dependents are left in place)`,
    });
    await gone('Deployment', 'orphan');
    const orphaned = (await cluster.read({ kind: 'ReplicaSet', name: rs.orphan })) as { metadata: { ownerReferences?: unknown[] } };
    expect(orphaned.metadata.ownerReferences ?? []).toEqual([]);

    expect((await cluster.delete({ kind: 'Deployment', name: 'background' }, 'BACKGROUND')).deleted).toBe(true);
    await gone('Deployment', 'background');
    await gone('ReplicaSet', rs.background);

    expect((await cluster.delete({ kind: 'Deployment', name: 'foreground' }, 'FOREGROUND')).note).toMatch(/propagation Foreground: it stays, marked for deletion, until/);
    await gone('Deployment', 'foreground');
    expect(await cluster.exists({ kind: 'ReplicaSet', name: rs.foreground })).toBe(false); // gone before its owner

    expect(await cluster.exists({ kind: 'ReplicaSet', name: rs.orphan })).toBe(true);
    expect(await cluster.delete({ kind: 'Deployment', name: 'background' }, 'BACKGROUND')).toEqual({ deleted: false, note: `deployment background in namespace ${ns} was already gone` });
  });

  it('keeps a rollout with a pod the stand-in fails from being stable, naming the pod and its reason', async () => {
    const ns = await newNamespace('failing');
    const cluster = new Cluster(adminTarget(ns));
    const [dep] = await cluster.apply(parseManifests(deploymentYaml('broken', image('1.35'), { annotations: { [FAIL_ANNOTATION]: 'CrashLoopBackOff' } })));
    // What a poller sees once the controller has created the pod and the stand-in has failed it.
    const s = await waitFor('the controller to report the rollout and the failing pod', async () => {
      const st = await cluster.stability(dep);
      return st.summary === '0 of 1 replica ready, 1 updated' && st.notReady.some((p) => p.reason.includes('CrashLoopBackOff')) && st;
    });
    expect(s.stable).toBe(false);
    expect(s.revision).toBe(1);
    expect(s.notReady).toHaveLength(1);
    expect(s.notReady[0].pod).toMatch(/^broken-[a-z0-9]+-[a-z0-9]+$/);
    expect(s.notReady[0].reason).toMatch(new RegExp(`^container main: CrashLoopBackOff: back-off 40s restarting failed container=main pod=${s.notReady[0].pod} \\(testenv: ${FAIL_ANNOTATION}=CrashLoopBackOff\\)$`));
  });

  it('fails stability once a Deployment is past its progress deadline, naming the pods', async () => {
    const ns = await newNamespace('deadline');
    const cluster = new Cluster(adminTarget(ns));
    const [dep] = await cluster.apply(parseManifests(deploymentYaml('stuck', image('1.35'), { annotations: { [FAIL_ANNOTATION]: 'ImagePullBackOff' }, progressDeadlineSeconds: 2 })));
    const err = await waitFor(
      'the progress deadline to pass',
      async () => {
        try {
          await cluster.stability(dep);
          return false;
        } catch (e) {
          if (e instanceof KubeError && e.reason === 'ProgressDeadlineExceeded') return e;
          throw e;
        }
      },
      60_000,
    );
    expect(err.message).toMatch(new RegExp(`^deployment stuck in namespace ${ns} exceeded its progress deadline: 0 of 1 replica ready, 1 updated \\(ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\\.\\); not ready: pod stuck-[a-z0-9]+-[a-z0-9]+: container main: ImagePullBackOff: `));
  });

  it('reads a Job as stable when Complete and throws when Failed (status written as the job controller would)', async () => {
    const ns = await newNamespace('job');
    const cluster = new Cluster(adminTarget(ns));
    const [job] = await cluster.apply(
      parseManifests(`apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: ${image('1.35')}, command: ["true"]}]
`),
    );
    expect(await cluster.stability(job)).toMatchObject({ stable: false, summary: '0 of 1 completions, 0 active' });
    const batch = kubeConfigFor(adminTarget()).makeApiClient(k8s.BatchV1Api);
    const merge = { headers: { 'Content-Type': k8s.PatchUtils.PATCH_FORMAT_JSON_MERGE_PATCH } };
    const now = new Date().toISOString();
    await batch.patchNamespacedJobStatus('migrate', ns, { status: { succeeded: 1, startTime: now, completionTime: now, conditions: [{ type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now }] } }, undefined, undefined, undefined, undefined, undefined, merge);
    expect(await cluster.stability(job)).toMatchObject({ stable: true, summary: 'complete: 1 of 1 succeeded' });
    await batch.patchNamespacedJobStatus('migrate', ns, { status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastProbeTime: now, lastTransitionTime: now }] } }, undefined, undefined, undefined, undefined, undefined, merge);
    expect((await kubeError(cluster.stability(job))).message).toBe(`job migrate in namespace ${ns} failed: BackoffLimitExceeded: Job has reached the specified backoff limit`);
  });

  it('reports 403 naming the verb, resource and namespace a token without patch rights lacks', async () => {
    const ns = await newNamespace('rbac');
    const cluster = new Cluster(adminTarget(ns));
    // A rollout that never finishes, so stability has to look at pods (which the account may not list).
    await cluster.apply(
      parseManifests(`${deploymentYaml('web', image('1.35'), { annotations: { [FAIL_ANNOTATION]: 'CrashLoopBackOff' } })}---
apiVersion: v1
kind: ServiceAccount
metadata: {name: limited}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer-without-patch}
rules:
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get, list, watch, create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: limited}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer-without-patch}
subjects: [{kind: ServiceAccount, name: limited, namespace: ${ns}}]
`),
    );
    const core = kubeConfigFor(adminTarget()).makeApiClient(k8s.CoreV1Api);
    const token = await waitFor('the service account token secret', async () => {
      const { body } = await core.listNamespacedSecret(ns);
      const secret = body.items.find((s) => s.type === 'kubernetes.io/service-account-token' && s.metadata?.annotations?.['kubernetes.io/service-account.name'] === 'limited' && s.data?.token);
      return secret && Buffer.from(secret.data!.token, 'base64').toString('utf8');
    });
    const limited = new Cluster({ ...adminTarget(ns), token });

    expect(await limited.exists({ kind: 'Deployment', name: 'web' })).toBe(true); // get is allowed
    const err = await kubeError(limited.patch({ kind: 'Deployment', name: 'web' }, { spec: { replicas: 2 } }, 'MERGE'));
    expect(err.status).toBe(403);
    expect(err.message).toBe(
      `forbidden: the deployment target's credentials may not patch deployments.apps "web" in namespace "${ns}" (cluster said: deployments.apps "web" is forbidden: User "system:serviceaccount:${ns}:limited" cannot patch resource "deployments" in API group "apps" in the namespace "${ns}")`,
    );
    expect(err.message).not.toContain(token);
    const scale = await kubeError(limited.scale({ kind: 'Deployment', name: 'web' }, 2));
    expect(scale.message).toMatch(new RegExp(`^forbidden: the deployment target's credentials may not patch deployments\\.apps/scale "web" in namespace "${ns}"`));
    const apply = await kubeError(limited.apply(parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n')));
    expect(apply.message).toMatch(new RegExp(`^forbidden: the deployment target's credentials may not patch configmaps "c" in namespace "${ns}" \\(document 1 \\(ConfigMap c\\)\\)`));
    // Stability still works without the right to list pods; it says why it cannot name them.
    const s = await waitFor('the rollout as the limited account sees it', async () => {
      const st = await limited.stability({ kind: 'Deployment', name: 'web' });
      return st.summary.startsWith('0 of 1 replica ready, 1 updated') && st;
    });
    expect(s).toEqual({ stable: false, summary: '0 of 1 replica ready, 1 updated (the credentials may not list pods, so which pods are not ready is unknown)', revision: 1, notReady: [] });
  });

  it('names the document and the field of an invalid document', async () => {
    const ns = await newNamespace('invalid');
    const cluster = new Cluster(adminTarget(ns));
    const noSelector = await kubeError(
      cluster.apply(
        parseManifests(`apiVersion: v1
kind: ConfigMap
metadata: {name: first}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: main, image: x}]}
`),
      ),
    );
    expect(noSelector.status).toBe(422);
    expect(noSelector.document).toBe(2);
    expect(noSelector.message).toMatch(/^invalid: document 2 \(Deployment web\) is invalid: spec\.selector: Required value; /);
    expect(noSelector.causes[0]).toEqual({ field: 'spec.selector', message: 'Required value' });
    expect(await cluster.exists({ kind: 'ConfigMap', name: 'first' })).toBe(true); // document 1 was applied

    const three = await kubeError(cluster.apply(parseManifests(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n---\n${deploymentYaml('web', 'x').replace('replicas: 1', 'replicas: "three"')}`)));
    expect(three.document).toBe(2);
    expect(three.retryable).toBe(false);
    expect(three.message).toBe('invalid: document 2 (Deployment web) is invalid: spec.replicas: expected numeric (int or float), got "three"');

    const unknownKind = await kubeError(cluster.apply(parseManifests('apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n')));
    expect(unknownKind.message).toBe(`document 1 (Widget w): the cluster at ${testEnv('KUBE_API_URL')} does not serve API example.com/v1 (needed for kind Widget)`);
  });

  it('names the API server and the reason when it cannot be reached or trusted, never the token', async () => {
    const refused = await kubeError(new Cluster({ ...adminTarget(), apiServerUrl: 'https://127.0.0.1:1' }).exists({ kind: 'Pod', name: 'p' }));
    expect(refused.message).toMatch(/^cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1/);
    expect(refused.retryable).toBe(true);
    const untrusted = await kubeError(new Cluster({ ...adminTarget(), caCertificate: null }).exists({ kind: 'Pod', name: 'p' }));
    expect(untrusted.message).toMatch(new RegExp(`^cannot reach the Kubernetes API server at ${testEnv('KUBE_API_URL').replace(/\./g, '\\.')}: .*(CERT|SELF_SIGNED|UNABLE_TO).*\\(TLS: the server's certificate is not trusted`));
    expect(untrusted.message).not.toContain(testEnv('KUBE_TOKEN'));
    const unauthorized = await kubeError(new Cluster({ ...adminTarget(), token: 'not-a-token' }).exists({ kind: 'Pod', name: 'p' }));
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.message).toMatch(/^unauthorized: the cluster at .* rejected the deployment target's credentials/);
  });
});
