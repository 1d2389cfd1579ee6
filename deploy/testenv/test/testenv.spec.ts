// Proves that the components deploy/testenv/up started are real and usable: the Kubernetes API
// with its controllers and kubelet stand-in, the image registry with buildah, the chart
// repository with helm, the token-checking git server and the Jenkins fake.
// Run `deploy/testenv/up` first; the addresses come from deploy/testenv/.state/env.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { testEnv, waitFor } from '@pipewright/testing';

const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const FAIL_ANNOTATION = 'testenv.pipewright.dev/fail';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; never throws for a non-zero exit (callers assert on it). */
function run(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 90_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

async function ok(file: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(file, args, opts);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const statusOf = (e: unknown): number | undefined => {
  const err = e as { statusCode?: number; response?: { statusCode?: number }; body?: { code?: number } };
  return err?.statusCode ?? err?.response?.statusCode ?? err?.body?.code;
};

const tmpDirs: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `pipewright-testenv-${prefix}-`));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('kubernetes (API server, controllers, kubelet stand-in)', () => {
  const ns = `testenv-${RUN}`;
  const kc = new k8s.KubeConfig();
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;

  beforeAll(() => {
    kc.loadFromFile(testEnv('KUBECONFIG'));
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
  });

  afterAll(async () => {
    await core?.deleteNamespace(ns).catch(() => undefined);
  });

  function deployment(name: string, annotations?: Record<string, string>): k8s.V1Deployment {
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name }, annotations },
          spec: {
            containers: [{ name: 'main', image: testEnv('BASE_IMAGE'), command: ['sleep', '3600'] }],
          },
        },
      },
    };
  }

  async function podsOf(rs: k8s.V1ReplicaSet): Promise<k8s.V1Pod[]> {
    const { body } = await core.listNamespacedPod(ns);
    return body.items.filter((p) => p.metadata?.ownerReferences?.some((o) => o.uid === rs.metadata?.uid));
  }

  async function replicaSetOf(dep: k8s.V1Deployment): Promise<k8s.V1ReplicaSet> {
    return waitFor(`a ReplicaSet owned by deployment ${dep.metadata?.name}`, async () => {
      const { body } = await apps.listNamespacedReplicaSet(ns);
      return body.items.find((rs) =>
        rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.uid === dep.metadata?.uid && o.controller),
      );
    });
  }

  it('runs a Deployment: ReplicaSet, a Ready pod on the stand-in node, an available Deployment', async () => {
    await core.createNamespace({ metadata: { name: ns, labels: { 'pipewright.dev/test': 'testenv' } } });
    const { body: dep } = await apps.createNamespacedDeployment(ns, deployment('probe'));

    const rs = await replicaSetOf(dep);
    expect(rs.spec?.template?.spec?.containers[0].image).toBe(testEnv('BASE_IMAGE'));

    const pod = await waitFor('a Ready pod of the ReplicaSet', async () => {
      const pods = await podsOf(rs);
      return pods.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    });
    expect(pod.spec?.nodeName).toBe('standin');
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ name: 'main', ready: true, restartCount: 0 });
    expect(pod.status?.containerStatuses?.[0].state?.running).toBeDefined();

    const available = await waitFor('the Deployment to be available', async () => {
      const { body } = await apps.readNamespacedDeployment('probe', ns);
      return (body.status?.availableReplicas ?? 0) >= 1 && body.status?.observedGeneration === body.metadata?.generation && body;
    });
    expect(available.status?.readyReplicas).toBe(1);
    expect(available.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
  });

  it('keeps a pod not Ready when its template carries the fail annotation', async () => {
    const { body: dep } = await apps.createNamespacedDeployment(ns, deployment('broken', { [FAIL_ANNOTATION]: 'CrashLoopBackOff' }));
    const rs = await replicaSetOf(dep);
    const pod = await waitFor('the failing pod to report CrashLoopBackOff', async () => {
      const pods = await podsOf(rs);
      return pods.find((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff');
    });
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(pod.status?.containerStatuses?.[0].ready).toBe(false);
    expect(pod.status?.containerStatuses?.[0].restartCount).toBeGreaterThan(0);
    expect(pod.status?.containerStatuses?.[0].state?.waiting?.message).toContain(FAIL_ANNOTATION);
    const { body } = await apps.readNamespacedDeployment('broken', ns);
    expect(body.status?.availableReplicas ?? 0).toBe(0);
  });

  it('deletes the namespace with everything in it', async () => {
    await core.deleteNamespace(ns);
    await waitFor(
      `namespace ${ns} to be gone`,
      async () => {
        try {
          await core.readNamespace(ns);
          return false;
        } catch (e) {
          if (statusOf(e) === 404) return true;
          throw e;
        }
      },
      90_000,
    );
  });
});

describe('image registry and buildah', () => {
  const buildah = (args: string[]) => ok(process.env.BUILDAH_BIN || 'buildah', ['--storage-driver', 'vfs', ...args], { timeoutMs: 110_000 });

  it('pushes an image built FROM the base image and lists its tag', async () => {
    const registry = testEnv('REGISTRY_URL');
    const tag = `run-${RUN}`;
    const image = `${registry}/testenv/probe:${tag}`;
    const dir = tempDir('image');
    writeFileSync(join(dir, 'probe.txt'), `probe ${RUN}\n`);

    const ctr = (await buildah(['from', '--tls-verify=false', '--quiet', '--name', `testenv-probe-${RUN}`, testEnv('BASE_IMAGE')])).trim();
    try {
      await buildah(['copy', ctr, join(dir, 'probe.txt'), '/probe.txt']);
      await buildah(['config', '--label', `pipewright.dev/run=${RUN}`, ctr]);
      await buildah(['commit', '--quiet', '--format', 'docker', ctr, image]);
    } finally {
      await run('buildah', ['--storage-driver', 'vfs', 'rm', ctr]);
    }
    try {
      await buildah(['push', '--quiet', '--tls-verify=false', image, `docker://${image}`]);
    } finally {
      await run('buildah', ['--storage-driver', 'vfs', 'rmi', image]);
    }

    const res = await fetch(`http://${registry}/v2/testenv/probe/tags/list`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { name: string; tags: string[] };
    expect(body.name).toBe('testenv/probe');
    expect(body.tags).toContain(tag);

    const inspect = JSON.parse(await ok(process.env.SKOPEO_BIN || 'skopeo', ['inspect', '--tls-verify=false', `docker://${image}`])) as {
      Labels: Record<string, string>;
      Layers: string[];
    };
    expect(inspect.Labels['pipewright.dev/run']).toBe(RUN);
    expect(inspect.Layers.length).toBe(2); // the base image's layer + ours
  });
});

describe('chart repository and helm', () => {
  function helmEnv(dir: string): NodeJS.ProcessEnv {
    return {
      ...process.env,
      HELM_CONFIG_HOME: join(dir, 'config'),
      HELM_CACHE_HOME: join(dir, 'cache'),
      HELM_DATA_HOME: join(dir, 'data'),
    };
  }

  type Doc = { kind?: string; [key: string]: unknown };
  function rendered(manifest: string): Doc[] {
    return parseAllDocuments(manifest)
      .map((d) => d.toJSON() as Doc)
      .filter((d) => d && d.kind);
  }
  /** dig(doc, 'spec.template.spec.containers.0.image') */
  function dig(doc: unknown, path: string): unknown {
    return path.split('.').reduce<unknown>((o, k) => (o == null ? undefined : (o as Record<string, unknown>)[k]), doc);
  }

  it('renders the test chart straight from the repository URL', async () => {
    const helm = testEnv('HELM_BIN');
    const dir = tempDir('helm');
    const out = await ok(
      helm,
      ['template', 'probe', 'hello', '--repo', testEnv('CHART_REPO_URL'), '--set', `message=hi ${RUN}`, '--set', 'replicaCount=3', '--set', 'image.tag=9.9'],
      { env: helmEnv(dir) },
    );
    const docs = rendered(out);
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Service']);
    const deployment = docs.find((d) => d.kind === 'Deployment');
    expect(dig(deployment, 'metadata.name')).toBe('probe-hello');
    expect(dig(deployment, 'spec.replicas')).toBe(3);
    expect(dig(deployment, 'spec.template.spec.containers.0.image')).toMatch(/\/pipewright\/busybox:9\.9$/);
    expect(dig(docs.find((d) => d.kind === 'ConfigMap'), 'data.message')).toBe(`hi ${RUN}`);
    expect(dig(docs.find((d) => d.kind === 'Service'), 'spec.ports.0.port')).toBe(8080);
  });

  it('adds the authenticated repository with credentials, and refuses it without', async () => {
    const helm = testEnv('HELM_BIN');
    const dir = tempDir('helm-auth');
    const env = helmEnv(dir);
    const repoArgs = ['--repository-config', join(dir, 'repositories.yaml'), '--repository-cache', join(dir, 'repository')];
    const url = testEnv('CHART_REPO_AUTH_URL');

    const denied = await run(helm, ['repo', 'add', 'nope', url, ...repoArgs], { env });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/401|Unauthorized/i);

    await ok(helm, ['repo', 'add', 'testenv', url, '--username', testEnv('CHART_REPO_USER'), '--password', testEnv('CHART_REPO_PASSWORD'), ...repoArgs], {
      env,
    });
    const out = await ok(helm, ['template', 'rel', 'testenv/hello', ...repoArgs], { env });
    const docs = rendered(out);
    const deployment = docs.find((d) => d.kind === 'Deployment');
    expect(dig(deployment, 'spec.replicas')).toBe(1);
    expect(dig(deployment, 'spec.template.spec.containers.0.image')).toMatch(/\/pipewright\/busybox:1\.35$/);
  });
});

describe('git server', () => {
  function gitEnv(home: string): NodeJS.ProcessEnv {
    return {
      ...process.env,
      HOME: home,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: '',
      SSH_ASKPASS: '',
    };
  }
  const repoUrl = (user?: string, password?: string) => {
    const u = new URL(`${testEnv('GIT_URL')}/sample-app.git`);
    if (user) u.username = user;
    if (password) u.password = password;
    return u.toString();
  };

  it('clones sample-app.git with the token', async () => {
    const home = tempDir('git-home');
    const dir = join(home, 'clone');
    await ok('git', ['clone', '--quiet', repoUrl('x-access-token', testEnv('GIT_TOKEN')), dir], { env: gitEnv(home) });
    expect(existsSync(join(dir, 'Dockerfile'))).toBe(true);
    expect(existsSync(join(dir, 'build.sh'))).toBe(true);
    expect(existsSync(join(dir, 'chart', 'Chart.yaml'))).toBe(true);
    expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toMatch(/^FROM /m);
    expect((await ok('git', ['-C', dir, 'rev-parse', '--abbrev-ref', 'HEAD'], { env: gitEnv(home) })).trim()).toBe('main');
  });

  it('accepts the token as a bearer header too', async () => {
    const home = tempDir('git-bearer');
    const out = await ok('git', ['-c', `http.extraHeader=Authorization: Bearer ${testEnv('GIT_TOKEN')}`, 'ls-remote', repoUrl(), 'refs/heads/main'], {
      env: gitEnv(home),
    });
    expect(out).toMatch(/^[0-9a-f]{40}\trefs\/heads\/main$/m);
  });

  it('refuses a clone without the token, or with a wrong one', async () => {
    const home = tempDir('git-denied');
    const none = await run('git', ['clone', '--quiet', repoUrl(), join(home, 'a')], { env: gitEnv(home) });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/Authentication failed|could not read Username/);
    const wrong = await run('git', ['clone', '--quiet', repoUrl('oauth2', 'not-the-token'), join(home, 'b')], { env: gitEnv(home) });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/Authentication failed/);
    expect(existsSync(join(home, 'b', 'Dockerfile'))).toBe(false);
  });

  it('accepts a push to a new repository in GIT_ROOT', async () => {
    const home = tempDir('git-push');
    const name = `probe-${RUN}.git`;
    const bare = join(testEnv('GIT_ROOT'), name);
    const env = gitEnv(home);
    try {
      await ok('git', ['init', '--quiet', '--bare', '-b', 'main', bare], { env });
      const work = join(home, 'work');
      await ok('git', ['init', '--quiet', '-b', 'main', work], { env });
      writeFileSync(join(work, 'README.md'), `probe ${RUN}\n`);
      await ok('git', ['-C', work, 'add', '-A'], { env });
      await ok('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'probe'], { env });
      const url = new URL(`${testEnv('GIT_URL')}/${name}`);
      url.username = 'oauth2';
      url.password = testEnv('GIT_TOKEN');
      await ok('git', ['-C', work, 'push', '--quiet', url.toString(), 'main'], { env });
      const head = (await ok('git', ['-C', work, 'rev-parse', 'HEAD'], { env })).trim();
      expect((await ok('git', ['--git-dir', bare, 'rev-parse', 'refs/heads/main'], { env })).trim()).toBe(head);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});

describe('jenkins fake', () => {
  const base = () => testEnv('JENKINS_URL');
  const auth = () => `Basic ${Buffer.from(`${testEnv('JENKINS_USER')}:${testEnv('JENKINS_TOKEN')}`).toString('base64')}`;
  const getJson = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base()}${path}`, { headers: { Authorization: auth() } });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    return (await res.json()) as T;
  };

  it('runs a parameterized build through crumb, queue item, build JSON and progressive log', async () => {
    expect((await fetch(`${base()}/api/json`)).status).toBe(401);
    const { crumb, crumbRequestField } = await getJson<{ crumb: string; crumbRequestField: string }>('/crumbIssuer/api/json');
    expect(crumbRequestField).toBe('Jenkins-Crumb');

    const job = `hello-${RUN}`;
    const noCrumb = await fetch(`${base()}/job/${job}/buildWithParameters?MESSAGE=x`, { method: 'POST', headers: { Authorization: auth() } });
    expect(noCrumb.status).toBe(403);

    const res = await fetch(`${base()}/job/${job}/buildWithParameters?MESSAGE=${encodeURIComponent(`hi ${RUN}`)}`, {
      method: 'POST',
      headers: { Authorization: auth(), [crumbRequestField]: crumb },
    });
    expect(res.status).toBe(201);
    const queueUrl = new URL(res.headers.get('location') ?? '');
    expect(queueUrl.pathname).toMatch(/^\/queue\/item\/\d+\/$/);

    const executable = await waitFor('the queue item to start a build', async () => {
      const item = await getJson<{ executable: { number: number; url: string } | null }>(`${queueUrl.pathname}api/json`);
      return item.executable ?? undefined;
    });
    expect(executable.number).toBe(1);

    let log = '';
    let sizesAgree = true;
    const build = await waitFor('the build to finish', async () => {
      const r = await fetch(`${base()}/job/${job}/${executable.number}/logText/progressiveText?start=${Buffer.byteLength(log)}`, {
        headers: { Authorization: auth() },
      });
      log += await r.text();
      if (Number(r.headers.get('x-text-size')) !== Buffer.byteLength(log)) sizesAgree = false;
      if (r.headers.get('x-more-data') === 'true') return undefined;
      return getJson<{ building: boolean; result: string; duration: number }>(`/job/${job}/${executable.number}/api/json`);
    });
    expect(sizesAgree).toBe(true);
    expect(build).toMatchObject({ building: false, result: 'SUCCESS' });
    expect(build.duration).toBeGreaterThan(0);
    expect(log).toContain(`MESSAGE=hi ${RUN}`);
    expect(log.trimEnd().endsWith('Finished: SUCCESS')).toBe(true);
  });
});
