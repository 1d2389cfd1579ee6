import { MessageBus, QueryError, type BusLogger } from '@pipewright/messaging';
import { connectTestNats, gql, startPlatform, startProcess, testEnv, type GraphQLResponse, type TestPlatform } from '@pipewright/testing';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { Client } from 'pg';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;

type Probe = { ok: boolean; message: string; latencyMs: number; details: Record<string, unknown> | null };

describe('environments service through the gateway (real git, Jenkins fake, registry, chart repository, Kubernetes)', () => {
  let platform: TestPlatform;
  let admin: string;
  let viewer: string;
  let nc: NatsConnection;
  let bus: MessageBus;

  const call = async <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token = admin) => gql<T>(platform.gatewayUrl, query, { token, variables });
  const ok = async <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token = admin): Promise<T> => {
    const res = await call<T>(query, variables, token);
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data!;
  };
  const db = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ connectionString: platform.serviceEnvs.environments.DATABASE_URL });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  const rowCount = () => db(async (c) => (await c.query('SELECT count(*)::int AS n FROM resources')).rows[0].n as number);

  beforeAll(async () => {
    platform = await startPlatform('envs');
    admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    viewer = await platform.token({ sub: 'vic', roles: ['VIEWER'] });
    nc = await connectTestNats('environments-spec');
    bus = new MessageBus(nc, platform.prefix, 'pipelines', quiet);
  });
  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  const createRepo = (input: Record<string, unknown>) =>
    call<{ createSourceRepository: { id: string; name: string; hasCredentials: boolean; defaultBranch: string } }>(
      `mutation($input: CreateSourceRepositoryInput!) { createSourceRepository(input: $input) { id name provider url defaultBranch hasCredentials createdBy version } }`,
      { input },
    );
  const testRepo = async (id: string) => (await ok<{ testSourceRepository: Probe }>(`mutation($id: ID!) { testSourceRepository(id: $id) { ok message latencyMs details } }`, { id })).testSourceRepository;

  describe('round trip of each kind', () => {
    const cases: [string, string, string, () => Record<string, unknown>, Record<string, unknown>][] = [
      ['SourceRepository', 'sourceRepository', 'sourceRepositories', () => ({ provider: 'GITLAB', url: 'https://gitlab.example.com/acme/app.git', defaultBranch: 'trunk', token: 't0ken' }), { defaultBranch: 'release' }],
      ['BuildTool', 'buildTool', 'buildTools', () => ({ url: 'https://ci.example.com/', username: 'bot', apiToken: 'api-t0ken' }), { username: 'other-bot' }],
      ['ImageRegistry', 'imageRegistry', 'imageRegistries', () => ({ url: 'registry.example.com:5000', namespace: 'team/apps', insecure: true, username: 'u', password: 'p4ss' }), { namespace: 'team/web' }],
      ['ChartRepository', 'chartRepository', 'chartRepositories', () => ({ url: 'oci://registry.example.com/charts', username: 'u', password: 'p4ss' }), { username: 'v' }],
      ['DeploymentTarget', 'deploymentTarget', 'deploymentTargets', () => ({ apiServerUrl: 'https://k8s.example.com:6443', insecureSkipTlsVerify: true, token: 'k8s-t0ken', defaultNamespace: 'apps' }), { defaultNamespace: 'web' }],
    ];

    it.each(cases)('%s: create, read, list, update, delete', async (type, singular, plural, createInput, change) => {
      const name = unique(singular);
      const fields = `id name hasCredentials version ${Object.keys(change).join(' ')}`;
      const created = (await ok<Record<string, Record<string, unknown>>>(`mutation($input: Create${type}Input!) { create${type}(input: $input) { ${fields} } }`, { input: { name, ...createInput() } }))[`create${type}`];
      expect(created).toMatchObject({ name, hasCredentials: true, version: 1 });

      const read = (await ok<Record<string, Record<string, unknown>>>(`query($id: ID!) { ${singular}(id: $id) { ${fields} } }`, { id: created.id }, viewer))[singular];
      expect(read).toEqual(created);

      const listed = (await ok<Record<string, { totalCount: number; edges: { node: { id: string } }[] }>>(`query($s: String) { ${plural}(search: $s) { totalCount edges { node { id } } } }`, { s: name }, viewer))[plural];
      expect(listed).toEqual({ totalCount: 1, edges: [{ node: { id: created.id } }] });

      const updated = (await ok<Record<string, Record<string, unknown>>>(`mutation($id: ID!, $input: Update${type}Input!) { update${type}(id: $id, input: $input) { ${fields} } }`, { id: created.id, input: change }))[`update${type}`];
      expect(updated).toEqual({ ...created, ...change, version: 2 });

      expect((await ok<Record<string, string>>(`mutation($id: ID!) { delete${type}(id: $id, force: true) }`, { id: created.id }))[`delete${type}`]).toBe(created.id);
      expect((await ok<Record<string, unknown>>(`query($id: ID!) { ${singular}(id: $id) { id } }`, { id: created.id }))[singular]).toBeNull();
      const gone = await call(`mutation($id: ID!) { delete${type}(id: $id, force: true) }`, { id: created.id });
      expect(gone.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    });
  });

  describe('source repositories', () => {
    it('round-trips, probes the real git server, and keeps the token out of every answer and of the table', async () => {
      const token = testEnv('GIT_TOKEN');
      const created = await createRepo({ name: unique('sample-app'), provider: 'GITHUB', url: testEnv('GIT_SAMPLE_REPO_URL'), token });
      expect(created.errors).toBeUndefined();
      const repo = created.data!.createSourceRepository;
      expect(repo).toMatchObject({ defaultBranch: 'main', hasCredentials: true });

      const read = await ok<{ sourceRepository: Record<string, unknown> }>(`query($id: ID!) { sourceRepository(id: $id) { id name url provider defaultBranch hasCredentials createdBy updatedBy version } }`, { id: repo.id });
      expect(read.sourceRepository).toMatchObject({ id: repo.id, provider: 'GITHUB', createdBy: 'ada', version: 1 });

      const probe = await testRepo(repo.id);
      expect(probe).toMatchObject({ ok: true });
      expect(probe.message).toMatch(/"main" found/);
      expect(probe.details?.branches).toContain('main');

      // At rest: ciphertext with its key id, never the token.
      const [stored] = await db(async (c) => (await c.query('SELECT config, secrets FROM resources WHERE id = $1', [repo.id])).rows);
      expect(JSON.stringify(stored)).not.toContain(token);
      expect(stored.secrets.token).toEqual({ kid: 'k1', iv: expect.any(String), tag: expect.any(String), ct: expect.any(String) });

      // No GraphQL type has a field that could return it.
      const fields = await ok<{ __type: { fields: { name: string }[] } }>(`{ __type(name: "SourceRepository") { fields { name } } }`);
      expect(fields.__type.fields.map((f) => f.name)).not.toContain('token');
    });

    it('says what failed for a wrong token (401) and a wrong host (DNS), without echoing the token', async () => {
      const wrong = `wrong-${randomBytes(8).toString('hex')}`;
      const bad = (await createRepo({ name: unique('bad-token'), provider: 'GITLAB', url: testEnv('GIT_SAMPLE_REPO_URL'), token: wrong })).data!.createSourceRepository;
      const probe = await testRepo(bad.id);
      expect(probe.ok).toBe(false);
      expect(probe.message).toMatch(/authentication failed \(401\).*check the access token/);
      expect(JSON.stringify(probe)).not.toContain(wrong);

      const nowhere = (await createRepo({ name: unique('no-host'), provider: 'GITHUB', url: 'http://no-such-host.invalid/acme/app.git' })).data!.createSourceRepository;
      const dns = await testRepo(nowhere.id);
      expect(dns).toMatchObject({ ok: false });
      expect(dns.message).toMatch(/cannot resolve the host "no-such-host.invalid" \(DNS\)/);
    });

    it('keeps an omitted secret on update and clears it on an explicit null', async () => {
      const repo = (await createRepo({ name: unique('keep'), provider: 'GITHUB', url: testEnv('GIT_SAMPLE_REPO_URL'), token: testEnv('GIT_TOKEN') })).data!.createSourceRepository;
      const update = (input: Record<string, unknown>) =>
        ok<{ updateSourceRepository: { hasCredentials: boolean; defaultBranch: string; version: number } }>(
          `mutation($id: ID!, $input: UpdateSourceRepositoryInput!) { updateSourceRepository(id: $id, input: $input) { hasCredentials defaultBranch version } }`,
          { id: repo.id, input },
        );
      expect((await update({ defaultBranch: 'main' })).updateSourceRepository).toEqual({ hasCredentials: true, defaultBranch: 'main', version: 2 });
      expect((await testRepo(repo.id)).ok).toBe(true); // the kept token still opens the repository
      expect((await update({ token: null })).updateSourceRepository).toMatchObject({ hasCredentials: false, version: 3 });
      expect((await testRepo(repo.id)).message).toMatch(/401/);
      const [stored] = await db(async (c) => (await c.query('SELECT secrets FROM resources WHERE id = $1', [repo.id])).rows);
      expect(stored.secrets).toEqual({});
    });

    it('refuses a duplicate name with CONFLICT naming the clash', async () => {
      const name = unique('Twin');
      await createRepo({ name, provider: 'GITHUB', url: 'https://github.com/acme/a.git' });
      const res = await createRepo({ name: name.toUpperCase(), provider: 'GITHUB', url: 'https://github.com/acme/b.git' });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name' });
      expect(res.errors?.[0].message).toContain(`named "${name.toUpperCase()}" already exists`);
    });
  });

  describe('bad input', () => {
    it.each([
      ['an empty name', { name: '  ', provider: 'GITHUB', url: 'https://github.com/a/b.git' }, 'input.name', /must not be empty/],
      ['a URL without a scheme', { name: 'x', provider: 'GITHUB', url: 'github.com/acme/app.git' }, 'input.url', /must be a https:\/\/ or http:\/\/ URL with a host/],
      ['a URL of another scheme', { name: 'x', provider: 'GITHUB', url: 'ftp://example.com/a.git' }, 'input.url', /got "ftp:\/\/example.com\/a.git"/],
      ['a 1 MB name', { name: 'n'.repeat(1024 * 1024), provider: 'GITHUB', url: 'https://github.com/a/b.git' }, 'input.name', /at most 100 characters \(got 1048576\)/],
    ])('refuses %s with BAD_USER_INPUT naming the field, storing nothing', async (_what, input, field, message) => {
      const before = await rowCount();
      const res = await createRepo(input);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.errors?.[0].message).toMatch(message);
      expect(await rowCount()).toBe(before);
    });

    it('refuses an unknown provider, naming the field', async () => {
      const before = await rowCount();
      const res = await createRepo({ name: 'x', provider: 'BITBUCKET', url: 'https://bitbucket.org/a/b.git' });
      expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0].message).toMatch(/"BITBUCKET" at "input\.provider"; Value "BITBUCKET" does not exist in "SourceProvider" enum/);
      expect(await rowCount()).toBe(before);
    });

    it('refuses a kubeconfig that does not parse', async () => {
      const before = await rowCount();
      const res = await call(`mutation($input: CreateDeploymentTargetInput!) { createDeploymentTarget(input: $input) { id } }`, {
        input: { name: unique('bad-kc'), kubeconfig: 'clusters: [this is: not: yaml' },
      });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.kubeconfig' });
      expect(res.errors?.[0].message).toMatch(/input\.kubeconfig does not parse as a kubeconfig/);
      expect(await rowCount()).toBe(before);
    });

    it('refuses a bad page size and a forged cursor', async () => {
      expect((await call(`{ imageRegistries(first: 1000) { totalCount } }`)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
      expect((await call(`{ imageRegistries(after: "garbage") { totalCount } }`)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    });
  });

  describe('build tools (Jenkins fake)', () => {
    const create = (input: Record<string, unknown>) =>
      ok<{ createBuildTool: { id: string } }>(`mutation($input: CreateBuildToolInput!) { createBuildTool(input: $input) { id kind url username hasCredentials } }`, { input }).then((d) => d.createBuildTool.id);
    const test = async (id: string) => (await ok<{ testBuildTool: Probe }>(`mutation($id: ID!) { testBuildTool(id: $id) { ok message details } }`, { id })).testBuildTool;

    it('probes /api/json with the crumb, and explains a 401 and a refused connection', async () => {
      const good = await create({ name: unique('jenkins'), url: testEnv('JENKINS_URL'), username: testEnv('JENKINS_USER'), apiToken: testEnv('JENKINS_TOKEN') });
      const probe = await test(good);
      expect(probe.ok).toBe(true);
      expect(probe.details).toMatchObject({ crumb: true });
      expect(probe.details?.jobs).toEqual(expect.arrayContaining(['hello']));

      const badToken = await create({ name: unique('jenkins-401'), url: testEnv('JENKINS_URL'), username: testEnv('JENKINS_USER'), apiToken: 'nope-nope' });
      expect(await test(badToken)).toMatchObject({ ok: false, message: expect.stringMatching(/authentication failed \(401\).*user name and API token/) });

      // A loopback port OUTBOUND_ALLOW does not name is refused before any connection.
      const internal = await create({ name: unique('jenkins-internal'), url: 'http://127.0.0.1:9/', username: 'u', apiToken: 't' });
      expect(await test(internal)).toMatchObject({
        ok: false,
        message: expect.stringMatching(/^refused to connect to 127\.0\.0\.1 for http:\/\/127\.0\.0\.1:9: it is a loopback address, which pipelines may not reach; an operator may allow it with OUTBOUND_ALLOW \(e\.g\. OUTBOUND_ALLOW=127\.0\.0\.1:9,/),
        details: { reason: 'CONNECTION', address: '127.0.0.1', setting: 'OUTBOUND_ALLOW' },
      });
    });
  });

  describe('image registries', () => {
    const create = (input: Record<string, unknown>) =>
      ok<{ createImageRegistry: { id: string } }>(`mutation($input: CreateImageRegistryInput!) { createImageRegistry(input: $input) { id } }`, { input }).then((d) => d.createImageRegistry.id);
    const test = async (id: string) => (await ok<{ testImageRegistry: Probe }>(`mutation($id: ID!) { testImageRegistry(id: $id) { ok message details } }`, { id })).testImageRegistry;

    it('probes GET /v2/ with the credentials and explains a 401 and a TLS mismatch', async () => {
      const good = await create({ name: unique('reg'), url: testEnv('REGISTRY_AUTH_URL'), insecure: true, username: testEnv('REGISTRY_USER'), password: testEnv('REGISTRY_PASSWORD') });
      expect(await test(good)).toMatchObject({ ok: true, details: { apiVersion: 'registry/2.0' } });

      const wrong = await create({ name: unique('reg-401'), url: testEnv('REGISTRY_AUTH_URL'), insecure: true, username: testEnv('REGISTRY_USER'), password: 'not-the-password' });
      expect(await test(wrong)).toMatchObject({ ok: false, message: expect.stringMatching(/authentication failed \(401\).*user name and password/) });

      // Not insecure: HTTPS is attempted against a plain-HTTP registry.
      const tls = await create({ name: unique('reg-tls'), url: testEnv('REGISTRY_AUTH_URL'), username: testEnv('REGISTRY_USER'), password: testEnv('REGISTRY_PASSWORD') });
      expect(await test(tls)).toMatchObject({ ok: false, message: expect.stringMatching(/TLS failed: .* does not speak TLS on this port/) });
    });

    it('pages through a list with cursors and searches by name', async () => {
      const tag = randomBytes(3).toString('hex');
      for (const n of ['e', 'a', 'd', 'c', 'b']) await create({ name: `page-${tag}-${n}`, url: `registry-${n}.example.com` });
      const names: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const res: { imageRegistries: { totalCount: number; edges: { node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } = await ok(
          `query($after: String, $search: String) { imageRegistries(first: 2, after: $after, search: $search) { totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }`,
          { after, search: `page-${tag}` },
        );
        pages++;
        expect(res.imageRegistries.totalCount).toBe(5);
        names.push(...res.imageRegistries.edges.map((e) => e.node.name));
        if (!res.imageRegistries.pageInfo.hasNextPage) break;
        after = res.imageRegistries.pageInfo.endCursor;
      }
      expect(pages).toBe(3);
      expect(names).toEqual(['a', 'b', 'c', 'd', 'e'].map((n) => `page-${tag}-${n}`));
    });
  });

  describe('chart repositories', () => {
    const create = (input: Record<string, unknown>) =>
      ok<{ createChartRepository: { id: string } }>(`mutation($input: CreateChartRepositoryInput!) { createChartRepository(input: $input) { id } }`, { input }).then((d) => d.createChartRepository.id);
    const test = async (id: string) => (await ok<{ testChartRepository: Probe }>(`mutation($id: ID!) { testChartRepository(id: $id) { ok message details } }`, { id })).testChartRepository;

    it('reads index.yaml, with and without credentials, and explains a 401 and a 404', async () => {
      expect(await test(await create({ name: unique('charts'), url: testEnv('CHART_REPO_URL') }))).toMatchObject({ ok: true, details: { charts: expect.arrayContaining(['hello']) } });
      const authed = await create({ name: unique('charts-auth'), url: testEnv('CHART_REPO_AUTH_URL'), username: testEnv('CHART_REPO_USER'), password: testEnv('CHART_REPO_PASSWORD') });
      expect((await test(authed)).ok).toBe(true);
      const wrong = await create({ name: unique('charts-401'), url: testEnv('CHART_REPO_AUTH_URL'), username: testEnv('CHART_REPO_USER'), password: 'wrong' });
      expect(await test(wrong)).toMatchObject({ ok: false, message: expect.stringMatching(/authentication failed \(401\)/) });
      const missing = await create({ name: unique('charts-404'), url: `${testEnv('CHART_REPO_URL')}/no/such/path` });
      expect(await test(missing)).toMatchObject({ ok: false, message: expect.stringMatching(/not found \(404\)/) });
      const metadata = await create({ name: unique('charts-metadata'), url: 'http://169.254.169.254/charts' });
      expect(await test(metadata)).toMatchObject({ ok: false, message: expect.stringMatching(/^refused to connect to 169\.254\.169\.254 .* a link-local address \(where cloud metadata services answer\)/) });
    });
  });

  describe('deployment targets (real kube-apiserver)', () => {
    const create = (input: Record<string, unknown>) =>
      call<{ createDeploymentTarget: Record<string, unknown> & { id: string } }>(
        `mutation($input: CreateDeploymentTargetInput!) { createDeploymentTarget(input: $input) { id apiServerUrl authMethod insecureSkipTlsVerify defaultNamespace hasCredentials caCertificate } }`,
        { input },
      );
    const test = async (id: string) => (await ok<{ testDeploymentTarget: Probe }>(`mutation($id: ID!) { testDeploymentTarget(id: $id) { ok message details } }`, { id })).testDeploymentTarget;
    const ca = () => readFileSync(testEnv('KUBE_CA_FILE'), 'utf8');

    it('probes /version and the namespaces with the token and CA', async () => {
      const res = await create({ name: unique('cluster'), apiServerUrl: testEnv('KUBE_API_URL'), caCertificate: ca(), token: testEnv('KUBE_TOKEN') });
      const target = res.data!.createDeploymentTarget;
      expect(target).toMatchObject({ authMethod: 'TOKEN', defaultNamespace: 'default', hasCredentials: true });
      const probe = await test(target.id);
      expect(probe.ok).toBe(true);
      expect(probe.details).toMatchObject({ version: expect.stringMatching(/^v1\.20/), defaultNamespaceFound: true });
      expect(probe.details?.namespaces).toEqual(expect.arrayContaining(['default', 'kube-system']));
    });

    it('takes the fields from a pasted kubeconfig', async () => {
      const res = await create({ name: unique('from-kubeconfig'), kubeconfig: readFileSync(testEnv('KUBECONFIG'), 'utf8') });
      expect(res.errors).toBeUndefined();
      const target = res.data!.createDeploymentTarget;
      expect(target).toMatchObject({ apiServerUrl: testEnv('KUBE_API_URL'), authMethod: 'TOKEN', hasCredentials: true });
      expect(String(target.caCertificate)).toContain('BEGIN CERTIFICATE');
      expect((await test(target.id)).ok).toBe(true);
    });

    it('explains a wrong token (401), a wrong CA and a wrong host', async () => {
      const wrongToken = (await create({ name: unique('c-401'), apiServerUrl: testEnv('KUBE_API_URL'), caCertificate: ca(), token: 'not-a-token' })).data!.createDeploymentTarget;
      expect(await test(wrongToken.id)).toMatchObject({ ok: false, message: expect.stringMatching(/authentication failed \(401\).*check the token/) });

      const dir = mkdtempSync(join(tmpdir(), 'pw-other-ca-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=other-ca', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'ca.pem')], { stdio: 'ignore' });
      const wrongCa = (await create({ name: unique('c-ca'), apiServerUrl: testEnv('KUBE_API_URL'), caCertificate: readFileSync(join(dir, 'ca.pem'), 'utf8'), token: testEnv('KUBE_TOKEN') })).data!.createDeploymentTarget;
      const caProbe = await test(wrongCa.id);
      expect(caProbe.ok).toBe(false);
      expect(caProbe.message).toMatch(/TLS failed: the certificate of 127\.0\.0\.1:\d+ is not trusted .*give the CA certificate/);

      const wrongHost = (await create({ name: unique('c-host'), apiServerUrl: 'https://cluster.no-such-host.invalid:6443', token: 't' })).data!.createDeploymentTarget;
      expect(await test(wrongHost.id)).toMatchObject({ ok: false, message: expect.stringMatching(/\(DNS\)/) });
    });
  });

  describe('delete protection, events and access', () => {
    it('refuses to delete a resource a pipeline uses, listing it, unless forced; emits changes without secrets', async () => {
      const events: { name: string; change: string; raw: string }[] = [];
      const arrived: (() => void)[] = [];
      const consumer = await bus.consume(['evt.environments.build-tool.changed.v1'], { durable: 'spec-env-events' }, async (p) => {
        events.push({ name: p.name, change: p.change, raw: JSON.stringify(p) });
        arrived.shift()?.();
      });
      const nextEvent = () => new Promise<void>((r) => arrived.push(r));
      const name = unique('guarded');
      try {
        const created = nextEvent();
        const id = (await ok<{ createBuildTool: { id: string } }>(`mutation($i: CreateBuildToolInput!) { createBuildTool(input: $i) { id } }`, { i: { name, url: 'https://ci.example.com', username: 'u', apiToken: 'super-secret-token' } })).createBuildTool.id;
        await created;

        // A real pipeline uses it: the pipelines service says so and the delete is refused.
        const pipelineName = unique('uses-jenkins');
        const pipelineId = (
          await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, {
            i: { name: pipelineName, stages: [{ refId: 'ci', name: 'CI', type: 'BUILD_JENKINS', config: { buildToolId: id, job: 'hello' } }] },
          })
        ).createPipeline.id;
        const refused = await call(`mutation($id: ID!) { deleteBuildTool(id: $id) }`, { id });
        expect(refused.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', pipelines: [{ id: pipelineId, name: pipelineName }] });
        expect(refused.errors?.[0].message).toContain(`is used by 1 pipeline(s): "${pipelineName}" (${pipelineId})`);
        expect((await ok<{ buildTool: { id: string } | null }>(`query($id: ID!) { buildTool(id: $id) { id } }`, { id })).buildTool).not.toBeNull();

        // With the pipelines service down, the delete is refused rather than guessed.
        await platform.processes.pipelines.stop();
        try {
          const unavailable = await call(`mutation($id: ID!) { deleteBuildTool(id: $id) }`, { id });
          expect(unavailable.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
          expect(unavailable.errors?.[0].message).toMatch(/pipelines service did not answer.*force: true/);
        } finally {
          await platform.restart('pipelines');
        }

        const deleted = nextEvent();
        expect((await ok<{ deleteBuildTool: string }>(`mutation($id: ID!) { deleteBuildTool(id: $id, force: true) }`, { id })).deleteBuildTool).toBe(id);
        await deleted;
        expect((await ok<{ buildTool: null }>(`query($id: ID!) { buildTool(id: $id) { id } }`, { id })).buildTool).toBeNull();
        expect(events.map((e) => [e.name, e.change])).toEqual([
          [name, 'created'],
          [name, 'deleted'],
        ]);
        expect(events.map((e) => e.raw).join()).not.toContain('super-secret-token');
      } finally {
        await consumer.stop();
      }
    });

    it('lets a VIEWER read but not create, update, delete or test', async () => {
      const id = (await ok<{ createChartRepository: { id: string } }>(`mutation($i: CreateChartRepositoryInput!) { createChartRepository(input: $i) { id } }`, { i: { name: unique('viewer-sees'), url: testEnv('CHART_REPO_URL') } })).createChartRepository.id;
      expect((await ok<{ chartRepository: { id: string } }>(`query($id: ID!) { chartRepository(id: $id) { id } }`, { id }, viewer)).chartRepository.id).toBe(id);
      const attempts: [string, Record<string, unknown>][] = [
        [`mutation($i: CreateChartRepositoryInput!) { createChartRepository(input: $i) { id } }`, { i: { name: unique('nope'), url: 'https://charts.example.com' } }],
        [`mutation($id: ID!) { updateChartRepository(id: $id, input: { name: "renamed" }) { id } }`, { id }],
        [`mutation($id: ID!) { deleteChartRepository(id: $id, force: true) }`, { id }],
        [`mutation($id: ID!) { testChartRepository(id: $id) { ok } }`, { id }],
      ];
      for (const [query, variables] of attempts) {
        const res: GraphQLResponse = await call(query, variables, viewer);
        expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', requiredRoles: ['ADMIN'] });
        expect(res.errors?.[0].message).toMatch(/you need ADMIN in project "default" .*; you have VIEWER there/);
      }
      expect((await ok<{ chartRepository: { name: string } }>(`query($id: ID!) { chartRepository(id: $id) { name } }`, { id })).chartRepository.name).toMatch(/^viewer-sees/);
    });
  });

  describe('projects: every resource belongs to one, and only its members see it', () => {
    type Target = { id: string; name: string; projectId: string; project: { id: string } };
    const TARGET_FIELDS = 'id name projectId project { id }';
    let projectA: string;
    let projectB: string;
    let adminA: string;
    let adminB: string;
    let devA: string;
    let viewerA: string;
    let targetA: Target;
    let targetB: Target;
    const sameName = unique('shared-name');

    const createTarget = (input: Record<string, unknown>, token: string) =>
      call<{ createDeploymentTarget: Target }>(`mutation($i: CreateDeploymentTargetInput!) { createDeploymentTarget(input: $i) { ${TARGET_FIELDS} } }`, { i: input }, token);
    const targetInput = (projectId: string, name = unique('target')) => ({ projectId, name, apiServerUrl: 'https://k8s.example.com:6443', token: 'k8s-t0ken' });
    const listTargets = (projectId: string | null, token: string, search = sameName) =>
      call<{ deploymentTargets: { totalCount: number; edges: { node: Target }[] } }>(
        `query($p: ID, $s: String) { deploymentTargets(projectId: $p, search: $s) { totalCount edges { node { ${TARGET_FIELDS} } } } }`,
        { p: projectId, s: search },
        token,
      );

    beforeAll(async () => {
      projectA = await platform.createProject(unique('env-a'));
      projectB = await platform.createProject(unique('env-b'));
      const member = async (sub: string, projectId: string, roles: ('VIEWER' | 'DEVELOPER' | 'ADMIN' | 'APPROVAL_ADMIN')[]) => {
        await platform.setMember(projectId, sub, roles);
        return platform.token({ sub, roles: [] });
      };
      adminA = await member(unique('amy'), projectA, ['ADMIN']);
      adminB = await member(unique('bob'), projectB, ['ADMIN']);
      devA = await member(unique('dan'), projectA, ['DEVELOPER']);
      viewerA = await member(unique('val'), projectA, ['VIEWER']);
      // The same name in two projects: names are unique per project, not platform-wide.
      targetA = (await createTarget(targetInput(projectA, sameName), adminA)).data!.createDeploymentTarget;
      targetB = (await createTarget(targetInput(projectB, sameName), adminB)).data!.createDeploymentTarget;
    });

    it('creates in the given project, names unique within it, and says which project a resource is in', async () => {
      expect(targetA).toMatchObject({ name: sameName, projectId: projectA, project: { id: projectA } });
      expect(targetB).toMatchObject({ name: sameName, projectId: projectB, project: { id: projectB } });
      const twin = await createTarget(targetInput(projectA, sameName.toUpperCase()), adminA);
      expect(twin.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name', conflictingId: targetA.id });
      // Omitting projectId means the project named default, where these callers are no members.
      const { projectId: _p, ...inDefault } = targetInput(projectA);
      const refused = await createTarget(inDefault, adminA);
      expect(refused.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', projectId: '00000000-0000-4000-8000-000000000001' });
      const [stored] = await db(async (c) => (await c.query('SELECT project_id::text FROM resources WHERE id = $1', [targetA.id])).rows);
      expect(stored.project_id).toBe(projectA);
    });

    it("never lists another project's resources, and refuses them by id with FORBIDDEN naming the project and the role", async () => {
      const inA = (await listTargets(projectA, adminA)).data!.deploymentTargets;
      expect(inA).toEqual({ totalCount: 1, edges: [{ node: targetA }] });
      expect((await listTargets(projectA, viewerA)).data!.deploymentTargets.edges.map((e) => e.node.id)).toEqual([targetA.id]);

      const otherList = await listTargets(projectB, adminA);
      expect(otherList.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', projectId: projectB });
      expect(otherList.errors?.[0].message).toMatch(new RegExp(`in project ${projectB}.*you are not a member of it`));
      const defaultList = await listTargets(null, adminA);
      expect(defaultList.errors?.[0].extensions?.code).toBe('FORBIDDEN');

      const byId = await call(`query($id: ID!) { deploymentTarget(id: $id) { id name } }`, { id: targetB.id }, adminA);
      expect(byId.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', projectId: projectB });
      expect(byId.errors?.[0].message).toMatch(/you need VIEWER or DEVELOPER or ADMIN or APPROVAL_ADMIN in project/);
      expect(JSON.stringify(byId)).not.toContain(sameName);
      // A platform ADMIN sees both.
      expect((await listTargets(projectB, admin)).data!.deploymentTargets.edges.map((e) => e.node.id)).toEqual([targetB.id]);
    });

    it("refuses every change to another project's resource, and changes nothing", async () => {
      const attempts: [string, Record<string, unknown>][] = [
        [`mutation($id: ID!) { updateDeploymentTarget(id: $id, input: { defaultNamespace: "stolen" }) { id } }`, { id: targetB.id }],
        [`mutation($id: ID!) { deleteDeploymentTarget(id: $id, force: true) }`, { id: targetB.id }],
        [`mutation($id: ID!) { testDeploymentTarget(id: $id) { ok } }`, { id: targetB.id }],
        [`mutation($i: CreateDeploymentTargetInput!) { createDeploymentTarget(input: $i) { id } }`, { i: targetInput(projectB) }],
      ];
      const before = await rowCount();
      for (const [query, variables] of attempts) {
        const res = await call(query, variables, adminA);
        expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', projectId: projectB, requiredRoles: ['ADMIN'] });
      }
      expect(await rowCount()).toBe(before);
      const [row] = await db(async (c) => (await c.query('SELECT version, config FROM resources WHERE id = $1', [targetB.id])).rows);
      expect(row).toMatchObject({ version: 1, config: { defaultNamespace: 'default' } });
    });

    it("lets a project's VIEWER and DEVELOPER read its resources but not create, update, delete or test them", async () => {
      for (const token of [viewerA, devA]) {
        expect((await call<{ deploymentTarget: Target }>(`query($id: ID!) { deploymentTarget(id: $id) { ${TARGET_FIELDS} } }`, { id: targetA.id }, token)).data!.deploymentTarget).toEqual(targetA);
        const attempts: [string, Record<string, unknown>][] = [
          [`mutation($i: CreateDeploymentTargetInput!) { createDeploymentTarget(input: $i) { id } }`, { i: targetInput(projectA) }],
          [`mutation($id: ID!) { updateDeploymentTarget(id: $id, input: { name: "renamed" }) { id } }`, { id: targetA.id }],
          [`mutation($id: ID!) { deleteDeploymentTarget(id: $id, force: true) }`, { id: targetA.id }],
          [`mutation($id: ID!) { testDeploymentTarget(id: $id) { ok } }`, { id: targetA.id }],
        ];
        for (const [query, variables] of attempts) {
          const res = await call(query, variables, token);
          expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', projectId: projectA, requiredRoles: ['ADMIN'] });
        }
      }
      const [row] = await db(async (c) => (await c.query('SELECT name, version FROM resources WHERE id = $1', [targetA.id])).rows);
      expect(row).toEqual({ name: sameName, version: 1 });
    });

    it("resolves Project.<kinds> through federation, for the project's members only", async () => {
      const query = `query($id: ID!, $s: String) { project(id: $id) { id deploymentTargets(search: $s) { totalCount edges { node { id projectId } } } imageRegistries { totalCount } } }`;
      const res = await call<{ project: { id: string; deploymentTargets: { totalCount: number; edges: { node: { id: string; projectId: string } }[] }; imageRegistries: { totalCount: number } } }>(
        query,
        { id: projectA, s: sameName },
        viewerA,
      );
      expect(res.errors).toBeUndefined();
      expect(res.data!.project.deploymentTargets).toEqual({ totalCount: 1, edges: [{ node: { id: targetA.id, projectId: projectA } }] });
      const foreign = await call(query, { id: projectB, s: sameName }, viewerA);
      expect(foreign.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(JSON.stringify(foreign)).not.toContain(targetB.id);
    });

    it('answers exists, resolve and for-host over NATS within a project when asked with one', async () => {
      const ghost = randomUUID();
      const exists = await bus.request('rpc.environments.exists', {
        projectId: projectA,
        refs: [
          { kind: 'deployment-target', id: targetA.id },
          { kind: 'deployment-target', id: targetB.id },
          { kind: 'deployment-target', id: ghost },
        ],
      });
      expect(exists).toEqual({ missing: [{ kind: 'deployment-target', id: ghost }], otherProject: [{ kind: 'deployment-target', id: targetB.id }] });
      // Without a projectId (callers from before projects): only what is missing.
      expect(await bus.request('rpc.environments.exists', { refs: [{ kind: 'deployment-target', id: targetB.id }] })).toEqual({ missing: [], otherProject: [] });

      expect(await bus.request('rpc.environments.deployment-target.resolve', { id: targetB.id, projectId: projectB })).toMatchObject({ id: targetB.id, token: 'k8s-t0ken' });
      expect(await bus.request('rpc.environments.deployment-target.resolve', { id: targetB.id })).toMatchObject({ id: targetB.id });
      const refused = (await bus.request('rpc.environments.deployment-target.resolve', { id: targetB.id, projectId: projectA }).catch((e: unknown) => e)) as QueryError;
      const missing = (await bus.request('rpc.environments.deployment-target.resolve', { id: ghost, projectId: projectA }).catch((e: unknown) => e)) as QueryError;
      expect(refused).toBeInstanceOf(QueryError);
      expect(refused).toMatchObject({ code: 'NOT_FOUND', message: `no deployment target with id "${targetB.id}" in project ${projectA}` });
      expect(missing).toMatchObject({ code: 'NOT_FOUND', message: `no deployment target with id "${ghost}" in project ${projectA}` });

      const host = `${unique('registry')}.example.com:5000`;
      const regB = (await ok<{ createImageRegistry: { id: string } }>(`mutation($i: CreateImageRegistryInput!) { createImageRegistry(input: $i) { id } }`, { i: { projectId: projectB, name: unique('reg-b'), url: host, password: 'pw-b', username: 'b' } }, adminB)).createImageRegistry.id;
      const regA = (await ok<{ createImageRegistry: { id: string } }>(`mutation($i: CreateImageRegistryInput!) { createImageRegistry(input: $i) { id } }`, { i: { projectId: projectA, name: unique('reg-a'), url: host, password: 'pw-a', username: 'a' } }, adminA)).createImageRegistry.id;
      expect((await bus.request('rpc.environments.image-registry.for-host', { host, projectId: projectA })).registry).toMatchObject({ id: regA, password: 'pw-a' });
      expect((await bus.request('rpc.environments.image-registry.for-host', { host, projectId: projectB })).registry).toMatchObject({ id: regB, password: 'pw-b' });
      expect((await bus.request('rpc.environments.image-registry.for-host', { host, projectId: randomUUID() })).registry).toBeNull();
      expect((await bus.request('rpc.environments.image-registry.for-host', { host })).registry).toMatchObject({ id: regB }); // the oldest, as before
    });

    it('tells the projects service how much of a project it holds, by kind', async () => {
      const empty = await platform.createProject(unique('env-empty'));
      expect(await bus.request('rpc.environments.project.usage', { projectId: empty })).toEqual({
        service: 'environments',
        counts: { sourceRepositories: 0, buildTools: 0, imageRegistries: 0, chartRepositories: 0, deploymentTargets: 0, secrets: 0 },
      });
      const counted = await platform.createProject(unique('env-counted'));
      await createTarget(targetInput(counted), admin);
      await createTarget(targetInput(counted), admin);
      await ok(`mutation($i: CreateChartRepositoryInput!) { createChartRepository(input: $i) { id } }`, { i: { projectId: counted, name: unique('charts'), url: 'https://charts.example.com' } });
      await ok(`mutation($i: CreateSecretInput!) { createSecret(input: $i) { id } }`, { i: { projectId: counted, name: 'COUNTED', value: 'counted-value' } });
      expect(await bus.request('rpc.environments.project.usage', { projectId: counted })).toEqual({
        service: 'environments',
        counts: { sourceRepositories: 0, buildTools: 0, imageRegistries: 0, chartRepositories: 1, deploymentTargets: 2, secrets: 1 },
      });
    });
  });

  describe('credentials for services on the bus, and key rotation', () => {
    it('resolves a resource with its decrypted secret over NATS, and answers NOT_FOUND cleanly', async () => {
      const token = testEnv('GIT_TOKEN');
      const repo = (await createRepo({ name: unique('resolve-me'), provider: 'GITHUB', url: testEnv('GIT_SAMPLE_REPO_URL'), token })).data!.createSourceRepository;
      const resolved = await bus.request('rpc.environments.source-repository.resolve', { id: repo.id });
      expect(resolved).toMatchObject({ id: repo.id, token, defaultBranch: 'main', provider: 'GITHUB' });
      const missing = (await bus.request('rpc.environments.build-tool.resolve', { id: repo.id }).catch((e: unknown) => e)) as QueryError;
      expect(missing).toBeInstanceOf(QueryError);
      expect(missing.code).toBe('NOT_FOUND');
      expect(missing.message).toBe(`no build tool with id "${repo.id}"`);
    });

    it('rotates every row to a new key with npm run rotate-secrets, and reads still work', async () => {
      const token = testEnv('GIT_TOKEN');
      const repo = (await createRepo({ name: unique('rotate-me'), provider: 'GITHUB', url: testEnv('GIT_SAMPLE_REPO_URL'), token })).data!.createSourceRepository;
      const k1 = platform.serviceEnvs.environments.SECRETS_KEYS;
      const k2 = `k2:${randomBytes(32).toString('base64')}`;
      await platform.restart('environments', { SECRETS_KEYS: `${k1},${k2}`, SECRETS_ACTIVE_KEY: 'k2' });

      const rotation = startProcess('services/environments/dist/rotate-secrets.js', { DATABASE_URL: platform.serviceEnvs.environments.DATABASE_URL, SECRETS_KEYS: `${k1},${k2}`, SECRETS_ACTIVE_KEY: 'k2' });
      expect(await rotation.exited).toBe(0);
      const report = JSON.parse(rotation.output().trim().split('\n').pop()!);
      expect(report).toMatchObject({ activeKey: 'k2', left: 0 });
      expect(report.rotated).toBeGreaterThan(0);

      const kids = await db(async (c) => (await c.query(`SELECT DISTINCT s.value->>'kid' AS kid FROM resources, jsonb_each(secrets) s`)).rows.map((r) => r.kid));
      expect(kids).toEqual(['k2']);

      // The old key can go: everything still opens with the new one alone.
      await platform.restart('environments', { SECRETS_KEYS: k2, SECRETS_ACTIVE_KEY: 'k2' });
      expect(await bus.request('rpc.environments.source-repository.resolve', { id: repo.id })).toMatchObject({ token });
      expect((await testRepo(repo.id)).ok).toBe(true);
    });
  });
});
