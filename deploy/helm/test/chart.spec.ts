// The Helm chart, rendered by the real helm and checked by the test cluster's API server: every
// object it makes is accepted (server-side dry run), its RBAC really grants what it says (and no
// more), and bad values fail with a message naming them. (Installing it on a real node is issue 16.)
import { kubeAdmin, testEnv } from '@pipewright/testing';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const CHART = join(__dirname, '..', 'pipewright');
/** A rendered object, loosely typed: the checks below read into it as a test would read kubectl's output. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary Kubernetes objects
type Loose = any;
type Doc = { kind: string; apiVersion: string; metadata: { name: string; namespace?: string }; spec?: Record<string, Loose>; data?: Record<string, string> };

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: testEnv('KUBECONFIG') }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}
const helm = (args: string[]) => run(testEnv('HELM_BIN'), args);
const kubectl = (args: string[], input?: string) => run(testEnv('KUBECTL_BIN'), args, input);
const render = async (sets: string[] = [], namespace = 'default') => {
  const out = await helm(['template', 'pw', CHART, '--namespace', namespace, '--kube-version', 'v1.20.2', ...sets.flatMap((s) => ['--set', s])]);
  if (out.code) throw new Error(`helm template failed: ${out.stderr}`);
  return { text: out.stdout, docs: parseAllDocuments(out.stdout).map((d) => d.toJSON() as Doc).filter(Boolean) };
};
const container = (d: Doc) => d.spec!.template.spec.containers[0];
const envOf = (d: Doc) => Object.fromEntries((container(d).env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [e.name, e.value ?? e.valueFrom]));

describe('the Helm chart', () => {
  const ns = `pw-chart-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const deployNs = `${ns}-apps`;

  beforeAll(async () => {
    for (const name of [ns, deployNs]) expect((await kubeAdmin('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).status).toBe(201);
  });
  afterAll(async () => {
    for (const name of [ns, deployNs]) await kubeAdmin('DELETE', `/api/v1/namespaces/${name}`).catch(() => undefined);
  });

  it('lints, and renders every component with its probes, limits, service account and security context', async () => {
    const lint = await helm(['lint', CHART]);
    expect(lint.stderr + lint.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    const { docs } = await render();
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['builds', 'environments', 'executions', 'gateway', 'pipelines', 'projects', 'triggers'].map((c) => `pw-pipewright-${c}`));
    for (const d of deployments) {
      const c = container(d);
      const pod = d.spec!.template.spec;
      expect({ name: d.metadata.name, sa: pod.serviceAccountName, token: pod.automountServiceAccountToken }).toEqual({ name: d.metadata.name, sa: 'pw-pipewright', token: false });
      expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(c.livenessProbe.httpGet.path).toBe('/health/live');
      expect(c.resources.limits.memory).toBeDefined();
      const builds = d.metadata.name.endsWith('-builds');
      // Only the builds service (buildah) runs as root and privileged; everything else as a user, read-only.
      expect({ name: d.metadata.name, nonRoot: pod.securityContext.runAsNonRoot, privileged: c.securityContext.privileged ?? false, readOnly: c.securityContext.readOnlyRootFilesystem }).toEqual({
        name: d.metadata.name,
        nonRoot: !builds,
        privileged: builds,
        readOnly: !builds,
      });
    }
    const triggers = envOf(deployments.find((d) => d.metadata.name.endsWith('-triggers'))!);
    expect(triggers).toMatchObject({ SERVICE: 'triggers', PUBLIC_URL: 'http://127.0.0.1:4000', SECRETS_KEYS: { secretKeyRef: { name: 'pw-pipewright-secrets', key: 'TRIGGERS_SECRETS_KEYS' } } });
    const config = docs.find((d) => d.kind === 'ConfigMap')!;
    expect(config.data!.TRIGGERS_URL).toBe('http://pw-pipewright-triggers:4106/graphql');
    // One replica each: no disruption budget, no autoscaler, no policies, no roles.
    expect(docs.filter((d) => ['PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'Role'].includes(d.kind))).toEqual([]);
  });

  it('makes only objects the API server accepts, with budgets, an autoscaler, network policies and deploy roles switched on', async () => {
    const { docs } = await render([
      'components.executions.replicas=2',
      'components.gateway.autoscaling.enabled=true',
      'components.gateway.autoscaling.minReplicas=2',
      'components.gateway.autoscaling.maxReplicas=5',
      'networkPolicy.enabled=true',
      `rbac.deployNamespaces={${deployNs}}`,
    ], ns);
    expect(docs.filter((d) => d.kind === 'PodDisruptionBudget').map((d) => d.metadata.name).sort()).toEqual(['pw-pipewright-executions', 'pw-pipewright-gateway']);
    expect(docs.find((d) => d.kind === 'HorizontalPodAutoscaler')!.spec).toMatchObject({ minReplicas: 2, maxReplicas: 5, scaleTargetRef: { name: 'pw-pipewright-gateway' } });
    // The autoscaler owns the gateway's replicas.
    expect(docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'pw-pipewright-gateway')!.spec!.replicas).toBeUndefined();
    const policies = docs.filter((d) => d.kind === 'NetworkPolicy');
    expect(policies).toHaveLength(7);
    expect(policies.find((p) => p.metadata.name === 'pw-pipewright-executions')!.spec!.ingress[0].from[0].podSelector.matchLabels).toMatchObject({ 'app.kubernetes.io/component': 'gateway' });

    // The release's own objects go to its namespace; the deploy roles name theirs.
    const json = (list: Doc[]) => list.map((d) => JSON.stringify(d)).join('\n');
    const own = docs.filter((d) => !d.metadata.namespace);
    const elsewhere = docs.filter((d) => d.metadata.namespace);
    expect(elsewhere.map((d) => `${d.kind} ${d.metadata.namespace}`)).toEqual([`Role ${deployNs}`, `RoleBinding ${deployNs}`]);
    for (const [list, args] of [[own, ['-n', ns]], [elsewhere, []]] as const) {
      const dry = await kubectl(['apply', '--dry-run=server', ...args, '-f', '-'], json(list));
      expect({ code: dry.code, stderr: dry.stderr }).toEqual({ code: 0, stderr: '' });
      expect(dry.stdout.match(/created \(server dry run\)/g)?.length).toBe(list.length);
    }

    // The roles for real: the service account may deploy in the namespace it was given, nowhere else, and read no secrets elsewhere.
    expect((await kubectl(['apply', '-n', ns, '-f', '-'], json(own.filter((d) => d.kind === 'ServiceAccount')))).code).toBe(0);
    expect((await kubectl(['apply', '-f', '-'], json(elsewhere))).code).toBe(0);
    const can = async (verb: string, resource: string, where: string) => (await kubectl(['auth', 'can-i', verb, resource, '-n', where, `--as=system:serviceaccount:${ns}:pw-pipewright`])).stdout.trim();
    expect(await can('create', 'deployments.apps', deployNs)).toBe('yes');
    expect(await can('patch', 'deployments.apps/scale', deployNs)).toBe('yes');
    expect(await can('get', 'pods/log', deployNs)).toBe('yes');
    expect(await can('create', 'deployments.apps', ns)).toBe('no');
    expect(await can('get', 'secrets', 'default')).toBe('no');
  });

  it('refuses bad values with a message that names them', async () => {
    const fails = async (sets: string[]) => (await helm(['template', 'pw', CHART, ...sets.flatMap((s) => ['--set', s])])).stderr;
    expect(await fails(['components.gateway.autoscaling.enabled=true', 'components.gateway.autoscaling.minReplicas=4', 'components.gateway.autoscaling.maxReplicas=2'])).toMatch(/components\.gateway\.autoscaling: minReplicas \(4\) is above maxReplicas \(2\)/);
    expect(await fails(['components.gateway.autoscaling.enabled=true'])).toMatch(/components\.gateway\.autoscaling: minReplicas and maxReplicas are required/);
    expect(await fails(['components.web.enabled=true', 'components.web.port=80'])).toMatch(/components\.web: unknown component/);
    expect(await fails(['secrets.triggersSecretsKeys=nope'])).toMatch(/secrets\.triggersSecretsKeys: each comma-separated entry/);
    expect(await fails(['publicUrl='])).toMatch(/publicUrl is required/);
  });
});
