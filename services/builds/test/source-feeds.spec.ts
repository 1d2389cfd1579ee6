// A Source stage feeds the Build and Bake stages after it, through the graph alone (no end
// condition): the whole platform with the real git server, buildah, registry and helm.
import type { RunStatus } from '@pipewright/contracts';
import { createGitRepository, pipelineDriver, startPlatform, testEnv, type TestPlatform } from '@pipewright/testing';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;

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
  artifacts: Record<string, unknown>;
  stages: StageOut[];
}
const RUN_FIELDS = 'id status reason artifacts stages { refId status error outputs }';

/** The files of this suite's own repository; `marker` changes with each commit pushed. */
const repoFiles = (marker: string): Record<string, string> => ({
  Dockerfile: `ARG BASE_IMAGE=${testEnv('BASE_IMAGE')}\nFROM \${BASE_IMAGE}\nCOPY marker.txt /marker.txt\n`,
  'marker.txt': `${marker}\n`,
  'chart/Chart.yaml': 'apiVersion: v2\nname: marker\nversion: 0.1.0\n',
  'chart/values.yaml': `marker: ${marker}\n`,
  'chart/templates/configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-marker\ndata:\n  marker: {{ .Values.marker | quote }}\n',
});

function git(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => execFile('git', args, { env }, (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))));
}

/** Pushes a new commit of `files` onto main of the repository at `url`; returns its hash. */
async function pushCommit(url: string, files: Record<string, string>): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'pw-source-feeds-'));
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: work, GIT_TERMINAL_PROMPT: '0' };
  const auth = ['-c', `http.extraHeader=Authorization: Bearer ${testEnv('GIT_TOKEN')}`];
  try {
    const tree = join(work, 'tree');
    await git([...auth, 'clone', '--quiet', url, tree], env);
    for (const [path, text] of Object.entries(files)) writeFileSync(join(tree, path), text);
    await git(['-C', tree, '-c', 'user.name=pipewright-tests', '-c', 'user.email=tests@pipewright.invalid', 'commit', '--quiet', '-am', 'moved on'], env);
    await git(['-C', tree, ...auth, 'push', '--quiet', url, 'main'], env);
    return (await git(['-C', tree, 'rev-parse', 'HEAD'], env)).trim();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

describe('a Source stage feeds the Build and Bake stages after it (real git, buildah, registry, helm)', () => {
  let platform: TestPlatform;
  let admin: string;
  let dev: string;
  let workspaces: string;
  let own: { url: string; remove(): void };
  const env: Record<string, string> = {};

  const { ok, pipeline, start, reach, stage } = pipelineDriver<RunOut>(() => platform.gatewayUrl, () => dev, RUN_FIELDS, { label: 'source-feeds', reachTimeoutMs: 280_000 });
  const create = async (kind: string, input: Record<string, unknown>) =>
    (await ok<Record<string, { id: string }>>(`mutation($i: Create${kind}Input!) { create${kind}(input: $i) { id } }`, { i: { name: unique(kind.toLowerCase()), ...input } }, admin))[`create${kind}`].id;
  const buildLog = async (buildId: string) =>
    (await ok<{ build: { log: { lines: { text: string }[] } } }>(`query($id: ID!) { build(id: $id) { log(offset: 0, limit: 5000) { lines { text } } } }`, { id: buildId })).build.log.lines.map((l) => l.text);

  beforeAll(async () => {
    workspaces = mkdtempSync(join(tmpdir(), 'pw-source-feeds-spec-'));
    platform = await startPlatform('source-feeds', {}, { builds: { GIT_BIN: 'git', HELM_BIN: testEnv('HELM_BIN'), BUILDAH_BIN: testEnv('BUILDAH_BIN'), BUILD_WORKSPACE_DIR: workspaces, BUILDS_INSTANCE_ID: 'source-feeds-spec' } });
    admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    dev = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    own = await createGitRepository(unique('source-feeds'), repoFiles('first'));
    env.sample = await create('SourceRepository', { provider: 'GITHUB', url: testEnv('GIT_SAMPLE_REPO_URL'), defaultBranch: 'main', token: testEnv('GIT_TOKEN') });
    env.own = await create('SourceRepository', { provider: 'GITHUB', url: own.url, defaultBranch: 'main', token: testEnv('GIT_TOKEN') });
    env.registry = await create('ImageRegistry', { url: testEnv('REGISTRY_URL'), namespace: unique('feeds'), insecure: true });
  });
  afterAll(async () => {
    await platform?.stop();
    own?.remove();
    if (workspaces) rmSync(workspaces, { recursive: true, force: true });
  });

  const source = (refId: string, repositoryId: string, dependsOn: string[] = [], type = 'SOURCE_GITHUB') => ({ refId, name: refId, type, dependsOn, config: { repositoryId } });
  const hosted = (refId: string, dependsOn: string[], config: Record<string, unknown> = {}) => ({
    refId,
    name: refId,
    type: 'BUILD_HOSTED',
    dependsOn,
    config: { buildImage: testEnv('BASE_IMAGE'), registryId: env.registry, imageName: `app-${refId}`, ...config },
  });
  const bake = (refId: string, dependsOn: string[]) => ({
    refId,
    name: refId,
    type: 'BAKE_MANIFEST',
    dependsOn,
    config: { releaseName: refId, namespace: 'default', template: { source: 'GIT_FILE', repositoryId: env.own, path: 'chart' } },
  });
  const sourceOf = (run: RunOut, refId: string) => (stage(run, refId).outputs as { source?: Record<string, unknown> }).source;

  it('SOURCE_GITHUB → BUILD_HOSTED and a git-file BAKE_MANIFEST, no end condition: both take the Source stage commit and say so', async () => {
    const id = await pipeline([source('source', env.own), hosted('build', ['source']), bake('bake', ['source'])]);
    const done = await reach((await start(id)).id);
    expect({ status: done.status, reason: done.reason }).toEqual({ status: 'SUCCEEDED', reason: null });
    const commit = (stage(done, 'source').outputs as { commit: string }).commit;
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    const used = { refId: 'source', repositoryId: env.own, branch: 'main', commit };
    expect(sourceOf(done, 'build')).toEqual(used);
    expect(stage(done, 'build').outputs).toMatchObject({ commit, artifact: { type: 'docker/image', reference: expect.stringContaining('/app-build:1') } });
    expect(sourceOf(done, 'bake')).toEqual(used);
    // No end condition made anything a run artifact: the graph alone carried the commit.
    expect(done.artifacts).toEqual({});
  });

  it('builds and bakes the commit the Source stage resolved, not the tip of the branch once it moved on', async () => {
    const id = await pipeline([
      source('source', env.own),
      { refId: 'gate', name: 'gate', type: 'JUDGEMENT', dependsOn: ['source'], config: {} },
      hosted('build', ['gate'], { buildCommand: 'echo "marker is $(cat marker.txt)"' }),
      bake('bake', ['gate']),
    ]);
    const r = await start(id);
    const waiting = await reach(r.id, ['WAITING']);
    const resolved = (stage(waiting, 'source').outputs as { commit: string }).commit;
    // The branch moves on while the run waits at the gate.
    const tip = await pushCommit(own.url, repoFiles('second'));
    expect(tip).not.toBe(resolved);
    await ok(`mutation($r: ID!) { judge(runId: $r, refId: "gate", decision: CONTINUE) { status } }`, { r: r.id });

    const done = await reach(r.id);
    expect({ status: done.status, reason: done.reason }).toEqual({ status: 'SUCCEEDED', reason: null });
    const used = { refId: 'source', repositoryId: env.own, branch: 'main', commit: resolved };
    expect(sourceOf(done, 'build')).toEqual(used);
    expect(sourceOf(done, 'bake')).toEqual(used);
    const log = await buildLog(String((stage(done, 'build').outputs as { buildId: string }).buildId));
    expect(log).toContain('marker is first');
    expect(log.some((l) => l.endsWith(`main at ${resolved} (the commit of Source stage source)`))).toBe(true);
    expect(String((stage(done, 'bake').outputs as { manifest: string }).manifest)).toMatch(/marker: "first"/);
    // A new run resolves the new tip.
    const next = await reach((await start(id)).id, ['WAITING']);
    expect((stage(next, 'source').outputs as { commit: string }).commit).toBe(tip);
    await ok(`mutation($r: ID!) { cancelRun(runId: $r, reason: "done") { status } }`, { r: next.id });
  });

  it('with several Source stages upstream, takes the nearest (a tie: the first in the pipeline); a repositoryId in the config wins', async () => {
    const id = await pipeline([
      // far is listed first; near is below it.
      source('far', env.sample, [], 'SOURCE_GITLAB'),
      source('near', env.own, ['far']),
      hosted('chain', ['near']),
      // near and far are both one hop up: far, listed first in the pipeline, although dependsOn names near first.
      hosted('both', ['near', 'far'], { buildCommand: 'sh build.sh' }),
      hosted('explicit', ['near'], { repositoryId: env.sample, branch: 'main' }),
      // Two hops up through a build stage: near (far is three).
      bake('bake', ['chain']),
    ]);
    const done = await reach((await start(id)).id);
    expect({ status: done.status, reason: done.reason }).toEqual({ status: 'SUCCEEDED', reason: null });
    const commitOf = (refId: string) => (stage(done, refId).outputs as { commit: string }).commit;
    expect(commitOf('far')).not.toBe(commitOf('near'));
    expect(sourceOf(done, 'chain')).toEqual({ refId: 'near', repositoryId: env.own, branch: 'main', commit: commitOf('near') });
    expect(sourceOf(done, 'both')).toEqual({ refId: 'far', repositoryId: env.sample, branch: 'main', commit: commitOf('far') });
    // The stage's own repository: no Source stage named.
    expect(sourceOf(done, 'explicit')).toEqual({ repositoryId: env.sample, branch: 'main', commit: commitOf('far') });
    expect(sourceOf(done, 'bake')).toEqual({ refId: 'near', repositoryId: env.own, branch: 'main', commit: commitOf('near') });
    expect(done.artifacts).toEqual({});
  });

  it('a build with no repositoryId and no Source stage upstream fails saying what to do', async () => {
    const id = await pipeline([source('aside', env.own), hosted('build', [])]);
    const done = await reach((await start(id)).id);
    expect(done.status).toBe('FAILED');
    expect(stage(done, 'build').error).toBe(
      'no source to build: set repositoryId (and branch) in this stage, or put a Source stage (SOURCE_GITHUB or SOURCE_GITLAB) upstream of it, in its dependsOn directly or through other stages',
    );
  });
});
