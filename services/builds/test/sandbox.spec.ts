// A hosted build's own code (its build command, its Dockerfile's RUN steps) runs in a network
// namespace of its own: it cannot reach this host (NATS, PostgreSQL, the subgraphs, the gateway,
// the Kubernetes API), with BUILD_NETWORK=egress it reaches a host outside (a network namespace the
// test creates), and its environment holds none of the service's variables. Checkout and push
// still work: they stay in the builds service.
import { createGitRepository, pipelineDriver, startOutsideHost, startPlatform, testEnv, type OutsideHost, type TestPlatform, type TestRepository } from '@pipewright/testing';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSandbox, dockerfileBaseImages, releaseSandbox } from '../src/executors/sandbox';

const run = promisify(execFile);

interface RunOut {
  id: string;
  status: string;
  stages: { refId: string; status: string; error: string | null; outputs: { buildId?: string; reference?: string } | null }[];
}

const PROBE = `for t in "$@"; do h=\${t%:*}; p=\${t#*:}; if echo | nc -w 2 "$h" "$p" >/dev/null 2>&1; then echo "REACHED $t"; else echo "REFUSED $t"; fi; done\n`;

describe('the build sandbox (BUILD_NETWORK)', () => {
  let platform: TestPlatform;
  let outside: OutsideHost;
  let server: Server;
  let outsideUrl: string;
  let repo: TestRepository;
  let workspaces: string;
  let dev: string;
  let admin: string;
  let targets: string[];
  const env: Record<string, string> = {};
  const tag = () => randomBytes(3).toString('hex');
  const { ok, pipeline, start, reach, stage } = pipelineDriver<RunOut>(() => platform.gatewayUrl, () => dev, 'id status stages { refId status error outputs }', { label: 'sandbox', reachTimeoutMs: 240_000 });
  const logOf = async (buildId: string) =>
    (await ok<{ build: { log: { lines: { text: string }[] } } }>(`query($id: ID!) { build(id: $id) { log(offset: 0, limit: 5000) { lines { text } } } }`, { id: buildId })).build.log.lines.map((l) => l.text);

  beforeAll(async () => {
    // A server "out there": in-process here, reachable only through the outside namespace.
    server = createServer((_req, res) => res.end('outside-ok\n'));
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    outside = await startOutsideHost();
    outsideUrl = await outside.forward((server.address() as { port: number }).port);
    workspaces = mkdtempSync(join(tmpdir(), 'pw-sandbox-spec-'));
    platform = await startPlatform('sandbox', {}, { builds: { GIT_BIN: 'git', BUILDAH_BIN: testEnv('BUILDAH_BIN'), BUILD_WORKSPACE_DIR: workspaces, BUILDS_INSTANCE_ID: 'sandbox-spec', BUILD_NETWORK: 'egress' } });
    admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    dev = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    const own = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal && !i.address.startsWith('198.'))?.address;
    const portOf = (url: string) => new URL(url).port;
    targets = [
      `127.0.0.1:${portOf(testEnv('NATS_URL'))}`,
      `127.0.0.1:${new URL(testEnv('DATABASE_URL')).port || 5432}`,
      ...Object.values(platform.serviceUrls).map((u) => `127.0.0.1:${portOf(u)}`),
      `127.0.0.1:${portOf(platform.gatewayUrl)}`,
      `127.0.0.1:${portOf(testEnv('KUBE_API_URL'))}`,
      ...(own ? [`${own}:${portOf(platform.gatewayUrl)}`, `${own}:${portOf(testEnv('NATS_URL'))}`] : []),
      `${outside.hostAddress}:${(server.address() as { port: number }).port}`,
    ];
    repo = await createGitRepository(`sandbox-${tag()}`, {
      'probe.sh': PROBE,
      Dockerfile: `ARG BASE_IMAGE=${testEnv('BASE_IMAGE')}\nFROM \${BASE_IMAGE}\nCOPY probe.sh /probe.sh\nRUN echo dockerfile-run; sh /probe.sh ${targets.join(' ')}\n`,
    });
    const create = async (kind: string, input: Record<string, unknown>) =>
      (await ok<Record<string, { id: string }>>(`mutation($i: Create${kind}Input!) { create${kind}(input: $i) { id } }`, { i: { name: `${kind.toLowerCase()}-${tag()}`, ...input } }, admin))[`create${kind}`].id;
    env.repo = await create('SourceRepository', { provider: 'GITHUB', url: repo.url, defaultBranch: 'main', token: testEnv('GIT_TOKEN') });
    env.registry = await create('ImageRegistry', { url: testEnv('REGISTRY_URL'), namespace: `sandbox-${tag()}`, insecure: true });
  }, 120_000);
  afterAll(async () => {
    await platform?.stop();
    await outside?.stop();
    await new Promise((r) => server?.close(r));
    repo?.remove();
    if (workspaces) rmSync(workspaces, { recursive: true, force: true });
  });

  const build = async () => {
    const [host, port] = outsideUrl.replace('http://', '').split(':');
    const command = `echo "== env"; env | sort; echo "== probe"; sh probe.sh ${targets.join(' ')}; echo "== outside"; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${host} ${port} | tail -n 1`;
    const id = await pipeline([
      { refId: 'build', name: 'build', type: 'BUILD_HOSTED', config: { buildImage: testEnv('BASE_IMAGE'), registryId: env.registry, imageName: 'probe', repositoryId: env.repo, branch: 'main', buildCommand: command } },
    ]);
    const run = await reach((await start(id)).id);
    const s = stage(run, 'build');
    return { run, stage: s, log: await logOf(s.outputs!.buildId!) };
  };

  it('egress: nothing on this host is reachable, from the command nor from the Dockerfile; the outside host is; checkout and push work; the env is the image\'s', async () => {
    const { run, stage: s, log } = await build();
    expect(run.status).toBe('SUCCEEDED');
    expect(s.outputs?.reference).toMatch(/\/probe:/);
    expect(log.some((l) => /^network: egress/.test(l))).toBe(true);
    // Both the build command and the Dockerfile's RUN probe every target, and reach none of them.
    for (const t of targets) expect(log.filter((l) => l === `REFUSED ${t}`)).toHaveLength(2);
    expect(log.filter((l) => l.startsWith('REACHED'))).toEqual([]);
    expect(log).toContain('outside-ok');
    expect(log).toContain('dockerfile-run');
    const envLines = log.slice(log.indexOf('== env') + 1, log.indexOf('== probe'));
    expect(envLines.length).toBeGreaterThan(0);
    for (const secret of ['NATS', 'DATABASE_URL', 'INTERNAL_SECRET', 'OUTBOUND_ALLOW', 'BUILDS_INSTANCE_ID', 'REGISTRY_AUTH_FILE', 'PW_CGROUPS']) {
      expect(envLines.filter((l) => l.includes(secret))).toEqual([]);
    }
  }, 300_000);

  it('none: not even the outside host is reachable', async () => {
    await platform.restart('builds', { BUILD_NETWORK: 'none' });
    const { run, log } = await build();
    expect(run.status).toBe('SUCCEEDED');
    expect(log.some((l) => /^network: none/.test(l))).toBe(true);
    expect(log.filter((l) => l.startsWith('REACHED'))).toEqual([]);
    expect(log).not.toContain('outside-ok');
    expect(log).toContain('dockerfile-run');
  }, 300_000);

  it('after a crash, releaseSandbox removes what a build left: its namespace and the host rules', async () => {
    const buildId = `crashed-${tag()}`;
    await createSandbox(buildId, 'egress'); // never disposed, as by a killed service
    const rules = async () => `${(await run('iptables', ['-S'])).stdout}${(await run('iptables', ['-t', 'nat', '-S'])).stdout}`.split('\n').filter((l) => l.includes(buildId));
    const namespaces = async () => (await run('ip', ['netns', 'list'])).stdout;
    expect((await rules()).length).toBeGreaterThan(0);
    await releaseSandbox(buildId);
    expect(await rules()).toEqual([]);
    expect(await namespaces()).not.toContain(`pwb-${createHash('sha256').update(buildId).digest('hex').slice(0, 8)}`);
  });

  it('finds the base images of a Dockerfile to pull outside the sandbox', () => {
    expect(dockerfileBaseImages('ARG BASE=reg:5000/a/b:1\nFROM ${BASE} AS builder\nRUN x\nFROM --platform=linux/amd64 alpine:3 \\\n  AS final\nFROM builder\nFROM scratch\nCOPY --from=builder / /\n')).toEqual(['reg:5000/a/b:1', 'alpine:3']);
    // As Docker reads it: a comment line ending in a backslash joins nothing (the FROM after it
    // counts), one inside a continuation is dropped; COPY --from= and RUN --mount=from= an image
    // count, a stage name or index does not.
    expect(dockerfileBaseImages('FROM a:1 AS one\n# a comment \\\nFROM hidden:1\nRUN echo \\\n# dropped\n  done\nCOPY --from=one /x /x\nCOPY --chown=1 --from=copied:2 /y /y\nCOPY --from=0 /z /z\nRUN --mount=type=bind,from=mounted:3,target=/m true\n')).toEqual(['a:1', 'hidden:1', 'copied:2', 'mounted:3']);
    expect(dockerfileBaseImages('# escape=`\nFROM base:1 AS b\nRUN echo `\n  done\nFROM `\n  other:2\n')).toEqual(['base:1', 'other:2']);
  });
});
