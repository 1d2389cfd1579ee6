import { MessageBus, QueryError, type BusLogger } from '@pipewright/messaging';
import { connectTestNats, gql, serviceQuery, startPlatform, testEnv, type GraphQLResponse, type TestPlatform } from '@pipewright/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NatsConnection } from 'nats';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;

const PIPELINE_FIELDS = `id name description revision latestRevision maxConcurrentRuns createdBy
  parameters { name label default required options }
  stages { refId name type dependsOn config startCondition endCondition failurePolicy timeoutSeconds retry { maxAttempts backoffSeconds } }`;

interface PipelineOut {
  id: string;
  name: string;
  revision: number;
  latestRevision: number;
  stages: { refId: string; type: string; config: Record<string, unknown>; dependsOn: string[] }[];
}

describe('pipelines service through the gateway', () => {
  let platform: TestPlatform;
  let dev: string;
  let viewer: string;
  let nc: NatsConnection;
  let bus: MessageBus;
  const env: Record<string, string> = {};

  const call = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token = dev) => gql<T>(platform.gatewayUrl, query, { token, variables });
  const ok = async <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token = dev): Promise<T> => {
    const res = await call<T>(query, variables, token);
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors, null, 1)}`);
    return res.data!;
  };
  const create = (input: Record<string, unknown>) => call<{ createPipeline: PipelineOut }>(`mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { ${PIPELINE_FIELDS} } }`, { input });
  const update = (id: string, input: Record<string, unknown>, expectedRevision: number) =>
    call<{ updatePipeline: PipelineOut }>(`mutation($id: ID!, $input: CreatePipelineInput!, $rev: Int!) { updatePipeline(id: $id, input: $input, expectedRevision: $rev) { ${PIPELINE_FIELDS} } }`, { id, input, rev: expectedRevision });
  const totalPipelines = async () => (await ok<{ pipelines: { totalCount: number } }>(`{ pipelines { totalCount } }`)).pipelines.totalCount;
  const problems = (res: GraphQLResponse) => (res.errors?.[0].extensions?.problems ?? []) as { field: string; message: string }[];

  /** One stage of every type, wired into a graph, referring to real environment resources. */
  const everyStage = (runPipelineId: string) => [
    { refId: 'src', name: 'Checkout', type: 'SOURCE_GITHUB', config: { repositoryId: env.repo, branch: 'main' } },
    { refId: 'src-lab', name: 'Checkout (GitLab)', type: 'SOURCE_GITLAB', config: { repositoryId: env.repo } },
    { refId: 'jenkins', name: 'Jenkins', type: 'BUILD_JENKINS', dependsOn: ['src'], config: { buildToolId: env.jenkins, job: 'hello', parameters: { GREETING: 'hi' } } },
    {
      refId: 'build',
      name: 'Build image',
      type: 'BUILD_HOSTED',
      dependsOn: ['src'],
      config: { buildImage: testEnv('BASE_IMAGE'), buildCommand: 'sh build.sh', registryId: env.registry, imageName: 'sample-app', tagFormat: 'v1.{BUILD_NUMBER}' },
      endCondition: { artifacts: [{ name: 'image', from: 'image' }] },
    },
    {
      refId: 'bake',
      name: 'Bake',
      type: 'BAKE_MANIFEST',
      dependsOn: ['build'],
      config: { releaseName: 'hello', namespace: 'apps', template: { source: 'CHART_REPOSITORY', chartRepositoryId: env.charts, chart: 'hello', version: '0.1.0' }, overrides: [{ key: 'replicaCount', value: '2' }] },
      endCondition: { artifacts: [{ name: 'manifest', from: 'manifest' }] },
    },
    { refId: 'deploy', name: 'Deploy', type: 'DEPLOY', dependsOn: ['bake'], config: { targetId: env.target, manifestArtifact: 'manifest' }, startCondition: { artifacts: ['manifest'], onMissing: 'FAIL' }, timeoutSeconds: 900 },
    { refId: 'patch', name: 'Patch', type: 'PATCH', dependsOn: ['deploy'], config: { targetId: env.target, namespace: 'apps', kind: 'Deployment', name: 'hello', patch: { spec: { paused: false } }, strategy: 'MERGE' } },
    { refId: 'scale', name: 'Scale', type: 'SCALE', dependsOn: ['patch'], config: { targetId: env.target, namespace: 'apps', kind: 'Deployment', name: 'hello', replicas: 5 }, retry: { maxAttempts: 3, backoffSeconds: 5 } },
    { refId: 'hook', name: 'Notify', type: 'WEBHOOK', dependsOn: ['scale'], config: { url: 'https://hooks.example.com/deployed', body: { run: '${run.number}' }, failFastStatusCodes: [400, 403] }, failurePolicy: 'CONTINUE' },
    { refId: 'judge', name: 'Keep it?', type: 'JUDGEMENT', dependsOn: ['hook'], config: { description: 'Keep the release?', options: ['keep', 'rollback'] } },
    { refId: 'gate', name: 'Rollback wanted', type: 'PRECONDITION', dependsOn: ['judge'], config: { judgementRefId: 'judge', values: ['rollback'], mode: 'MATCHED' } },
    { refId: 'undo', name: 'Undo', type: 'ROLLOUT_UNDO', dependsOn: ['gate'], config: { targetId: env.target, namespace: 'apps', kind: 'Deployment', name: 'hello', revisionsBack: 1 } },
    { refId: 'approve', name: 'Approve cleanup', type: 'APPROVAL', dependsOn: ['undo'], config: { description: 'Remove the old config', message: 'Approve?' } },
    { refId: 'cleanup', name: 'Delete config', type: 'DELETE', dependsOn: ['approve'], config: { targetId: env.target, namespace: 'apps', kind: 'ConfigMap', name: 'old-config', propagationPolicy: 'FOREGROUND' }, failurePolicy: 'STOP_BRANCH' },
    { refId: 'child', name: 'Smoke tests', type: 'RUN_PIPELINE', dependsOn: ['cleanup'], config: { pipelineId: runPipelineId, parameters: { env: 'prod' }, waitForCompletion: false } },
  ];

  beforeAll(async () => {
    platform = await startPlatform('pipes');
    dev = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    viewer = await platform.token({ sub: 'vic', roles: ['VIEWER'] });
    const admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    nc = await connectTestNats('pipelines-spec');
    bus = new MessageBus(nc, platform.prefix, 'pipelines-spec', quiet);
    const make = async (kind: string, input: Record<string, unknown>) =>
      (await ok<Record<string, { id: string }>>(`mutation($input: Create${kind}Input!) { create${kind}(input: $input) { id } }`, { input }, admin))[`create${kind}`].id;
    env.repo = await make('SourceRepository', { name: unique('repo'), provider: 'GITHUB', url: testEnv('GIT_SAMPLE_REPO_URL'), token: testEnv('GIT_TOKEN') });
    env.jenkins = await make('BuildTool', { name: unique('jenkins'), url: testEnv('JENKINS_URL'), username: testEnv('JENKINS_USER'), apiToken: testEnv('JENKINS_TOKEN') });
    env.registry = await make('ImageRegistry', { name: unique('registry'), url: testEnv('REGISTRY_URL'), insecure: true });
    env.charts = await make('ChartRepository', { name: unique('charts'), url: testEnv('CHART_REPO_URL') });
    env.targetName = unique('test-cluster');
    env.target = await make('DeploymentTarget', { name: env.targetName, kubeconfig: readFileSync(testEnv('KUBECONFIG'), 'utf8') });
    env.admin = admin;
  });
  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  it('lists every stage type with its group and config JSON Schema', async () => {
    const { stageTypes } = await ok<{ stageTypes: { type: string; group: string; configSchema: { properties: Record<string, { description?: string }>; required?: string[] } }[] }>(
      `{ stageTypes { type group label description configSchema } }`,
      undefined,
      viewer,
    );
    expect(stageTypes).toHaveLength(15);
    const scale = stageTypes.find((t) => t.type === 'SCALE')!;
    expect(scale.group).toBe('DEPLOYMENT');
    expect(scale.configSchema.properties.replicas.description).toBe('Desired replicas.');
    expect(scale.configSchema.required).toEqual(expect.arrayContaining(['targetId', 'kind', 'name', 'replicas']));
    expect(stageTypes.filter((t) => t.group === 'FEATURE').map((t) => t.type).sort()).toEqual(['APPROVAL', 'JUDGEMENT', 'PRECONDITION', 'RUN_PIPELINE', 'WEBHOOK']);
  });

  it('round-trips a pipeline with one stage of every type, through GraphQL and through YAML', async () => {
    const child = (await create({ name: unique('smoke-tests'), stages: [{ refId: 'wait', name: 'Wait', type: 'JUDGEMENT', config: {} }] })).data!.createPipeline;
    const input = {
      name: unique('release'),
      description: 'Everything at once',
      parameters: [{ name: 'env', label: 'Environment', default: 'staging', required: true, options: ['staging', 'prod'] }],
      maxConcurrentRuns: 1,
      stages: everyStage(child.id),
    };
    const res = await create(input);
    expect(res.errors).toBeUndefined();
    const created = res.data!.createPipeline;
    expect(created).toMatchObject({ revision: 1, latestRevision: 1, maxConcurrentRuns: 1, createdBy: 'dee' });
    expect(created.stages.map((s) => s.type)).toEqual(input.stages.map((s) => s.type));
    // Defaults are filled in and stored, so what comes back is what will run.
    expect(created.stages.find((s) => s.refId === 'scale')).toMatchObject({ failurePolicy: 'FAIL_PIPELINE', retry: { maxAttempts: 3, backoffSeconds: 5 } });
    expect(created.stages.find((s) => s.refId === 'build')!.config).toMatchObject({ cpu: 1, memoryMb: 2048, timeLimitMinutes: 30, useTagFormat: true, dockerfilePath: 'Dockerfile' });

    const read = await ok<{ pipeline: PipelineOut }>(`query($id: ID!) { pipeline(id: $id) { ${PIPELINE_FIELDS} } }`, { id: created.id }, viewer);
    expect(read.pipeline).toEqual(created);

    const { exportPipeline: yaml } = await ok<{ exportPipeline: string }>(`query($id: ID!) { exportPipeline(id: $id) }`, { id: created.id });
    expect(yaml).toMatch(/^apiVersion: pipewright.dev\/v1\nkind: Pipeline\nname: /);
    const imported = await ok<{ importPipeline: PipelineOut }>(`mutation($yaml: String!) { importPipeline(yaml: $yaml, mode: REPLACE) { ${PIPELINE_FIELDS} } }`, { yaml });
    expect(imported.importPipeline).toMatchObject({ id: created.id, revision: 2 });
    const { revision: _r, latestRevision: _l, ...before } = created;
    const { revision: _r2, latestRevision: _l2, ...after } = imported.importPipeline;
    expect(after).toEqual(before);
    expect((await ok<{ exportPipeline: string }>(`query($id: ID!) { exportPipeline(id: $id) }`, { id: created.id })).exportPipeline).toBe(yaml);

    // The same YAML under another name imports as a new pipeline.
    const copyName = unique('release-copy');
    const copy = await ok<{ importPipeline: PipelineOut }>(`mutation($yaml: String!) { importPipeline(yaml: $yaml, mode: CREATE) { ${PIPELINE_FIELDS} } }`, { yaml: yaml.replace(/^name: .*$/m, `name: ${copyName}`) });
    expect(copy.importPipeline.id).not.toBe(created.id);
    expect(copy.importPipeline.stages).toEqual(created.stages);
  });

  it('reads a stage deployment target name from the environments service (federation)', async () => {
    const p = (await create({ name: unique('fed'), stages: [{ refId: 'scale', name: 'Scale', type: 'SCALE', config: { targetId: env.target, kind: 'Deployment', name: 'web', replicas: 2 } }] })).data!.createPipeline;
    const res = await ok<{ pipeline: { stages: { deploymentTarget: { id: string; name: string; apiServerUrl: string } }[] } }>(
      `query($id: ID!) { pipeline(id: $id) { stages { deploymentTarget { id name apiServerUrl } sourceRepository { id } } } }`,
      { id: p.id },
    );
    expect(res.pipeline.stages[0].deploymentTarget).toEqual({ id: env.target, name: env.targetName, apiServerUrl: testEnv('KUBE_API_URL') });
  });

  describe('validation: every problem at once, with its path, storing nothing', () => {
    const expectProblems = async (input: Record<string, unknown>, expected: { field: string; message: RegExp }[]) => {
      const before = await totalPipelines();
      const res = await create({ name: unique('invalid'), ...input });
      expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      const got = problems(res);
      for (const e of expected) expect(got).toContainEqual({ field: e.field, message: expect.stringMatching(e.message) });
      expect(got).toHaveLength(expected.length);
      expect(await totalPipelines()).toBe(before);
    };

    it('checks each config against its type schema, refIds, dependsOn and environment resources together', async () => {
      await expectProblems(
        {
          stages: [
            { refId: 'scale', name: 'Scale', type: 'SCALE', config: { targetId: env.target, kind: 'Deployment', name: 'web', replicas: -1 } },
            { refId: 'scale', name: 'Again', type: 'WEBHOOK', config: { url: 'ftp://nope' } },
            { refId: 'deploy', name: 'Deploy', type: 'DEPLOY', dependsOn: ['nowhere'], config: { targetId: randomUUID(), manifest: 'kind: ConfigMap' } },
            { refId: 'hosted', name: 'Build', type: 'BUILD_HOSTED', config: { buildImage: 'x', registryId: env.registry, imageName: 'Bad Name', tagFormat: 'latest' } },
          ],
        },
        [
          { field: 'stages[0].config.replicas', message: /must be at least 0/ },
          { field: 'stages[1].refId', message: /"scale" is already the refId of stages\[0\]/ },
          { field: 'stages[1].config.url', message: /must be an http\(s\):\/\/ URL/ },
          { field: 'stages[2].dependsOn[0]', message: /names no stage \("nowhere"\)/ },
          { field: 'stages[2].config.targetId', message: /names no deployment target/ },
          { field: 'stages[3].config.imageName', message: /must be an image name/ },
          { field: 'stages[3].config.tagFormat', message: /must contain \{BUILD_NUMBER\} or \{COMMIT\}/ },
        ],
      );
    });

    it('names a missing environment resource by its path', async () => {
      const ghost = randomUUID();
      await expectProblems({ stages: [{ refId: 'd', name: 'Deploy', type: 'DEPLOY', config: { targetId: ghost, manifest: 'kind: ConfigMap' } }] }, [
        { field: 'stages[0].config.targetId', message: new RegExp(`names no deployment target \\(id "${ghost}"\\)`) },
      ]);
    });

    it('names a cycle', async () => {
      await expectProblems(
        {
          stages: [
            { refId: 'a', name: 'A', type: 'JUDGEMENT', dependsOn: ['c'], config: {} },
            { refId: 'b', name: 'B', type: 'JUDGEMENT', dependsOn: ['a'], config: {} },
            { refId: 'c', name: 'C', type: 'JUDGEMENT', dependsOn: ['b'], config: {} },
          ],
        },
        [{ field: 'stages[0].dependsOn', message: /forms a cycle: a → c → b → a/ }],
      );
    });

    it('requires a precondition judgement upstream', async () => {
      await expectProblems(
        {
          stages: [
            { refId: 'judge', name: 'Judge', type: 'JUDGEMENT', config: { options: ['go'] } },
            { refId: 'gate', name: 'Gate', type: 'PRECONDITION', config: { judgementRefId: 'judge', values: ['go'] } },
          ],
        },
        [{ field: 'stages[1].config.judgementRefId', message: /judgement "judge" is not upstream of this stage/ }],
      );
    });

    it('refuses a document over 2 MB', async () => {
      await expectProblems({ description: 'x'.repeat(2 * 1024 * 1024 + 10), stages: [] }, [{ field: 'document', message: /a pipeline may be at most 2 MB/ }]);
    });

    it('refuses a pipeline that runs itself, directly or through others', async () => {
      const a = (await create({ name: unique('a'), stages: [{ refId: 'j', name: 'J', type: 'JUDGEMENT', config: {} }] })).data!.createPipeline;
      const self = await update(a.id, { name: a.name, stages: [{ refId: 'again', name: 'Again', type: 'RUN_PIPELINE', config: { pipelineId: a.id } }] }, 1);
      expect(problems(self)).toEqual([{ field: 'stages[0].config.pipelineId', message: 'is this pipeline: a pipeline cannot run itself' }]);

      const bName = unique('b');
      const b = (await create({ name: bName, stages: [{ refId: 'run-a', name: 'Run A', type: 'RUN_PIPELINE', config: { pipelineId: a.id } }] })).data!.createPipeline;
      const loop = await update(a.id, { name: a.name, stages: [{ refId: 'run-b', name: 'Run B', type: 'RUN_PIPELINE', config: { pipelineId: b.id } }] }, 1);
      expect(problems(loop)).toEqual([{ field: 'stages[0].config.pipelineId', message: `would run this pipeline again: "${bName}" → this pipeline` }]);
      expect((await ok<{ pipeline: { latestRevision: number } }>(`query($id: ID!) { pipeline(id: $id) { latestRevision } }`, { id: a.id })).pipeline.latestRevision).toBe(1);
    });

    it('reports bad YAML with its line and column', async () => {
      const res = await call(`mutation($yaml: String!) { importPipeline(yaml: $yaml) { id } }`, { yaml: 'apiVersion: pipewright.dev/v1\nkind: Pipeline\nname: [unclosed\nstages: []\n' });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'yaml', line: expect.any(Number), column: expect.any(Number) });
      expect(res.errors?.[0].extensions).toMatchObject({ line: 4, column: 1 });
      expect(res.errors?.[0].message).toMatch(/^yaml is not valid YAML at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a \]$/);
    });
  });

  it('lets one of two editors saving from the same revision win; the other gets CONFLICT and changes nothing', async () => {
    const base = { name: unique('contended'), stages: [{ refId: 'j', name: 'Judge', type: 'JUDGEMENT', config: {} }] };
    const p = (await create(base)).data!.createPipeline;
    const [first, second] = await Promise.all([
      update(p.id, { ...base, description: 'editor one' }, 1),
      update(p.id, { ...base, description: 'editor two' }, 1),
    ]);
    const results = [first, second];
    const winners = results.filter((r) => !r.errors);
    const losers = results.filter((r) => r.errors);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0].errors![0].extensions).toMatchObject({ code: 'CONFLICT', currentRevision: 2 });
    expect(losers[0].errors![0].message).toMatch(/is at revision 2, but this change was made to revision 1; reload it/);
    const now = await ok<{ pipeline: { description: string; latestRevision: number } }>(`query($id: ID!) { pipeline(id: $id) { description latestRevision } }`, { id: p.id });
    expect(now.pipeline).toEqual({ description: winners[0] === first ? 'editor one' : 'editor two', latestRevision: 2 });
  });

  it('restores an old revision as a new one, and answers run snapshots of any revision over NATS', async () => {
    const name = unique('restorable');
    const v1 = { name, stages: [{ refId: 'one', name: 'One', type: 'JUDGEMENT', config: { options: ['a'] } }] };
    const p = (await create(v1)).data!.createPipeline;
    await update(p.id, { name, stages: [{ refId: 'two', name: 'Two', type: 'APPROVAL', config: {} }] }, 1);
    const restored = await ok<{ restorePipelineRevision: PipelineOut }>(`mutation($id: ID!) { restorePipelineRevision(id: $id, revision: 1, expectedRevision: 2) { ${PIPELINE_FIELDS} } }`, { id: p.id });
    expect(restored.restorePipelineRevision).toMatchObject({ revision: 3, stages: [{ refId: 'one', type: 'JUDGEMENT' }] });
    const history = await ok<{ pipelineRevisions: { totalCount: number; edges: { node: { revision: number; note: string } }[] } }>(
      `query($id: ID!) { pipelineRevisions(id: $id) { totalCount edges { node { revision note } } } }`,
      { id: p.id },
    );
    expect(history.pipelineRevisions.edges.map((e) => e.node)).toEqual([
      { revision: 3, note: 'restored from 1' },
      { revision: 2, note: 'updated' },
      { revision: 1, note: 'created' },
    ]);

    const old = await bus.request('rpc.pipelines.pipeline.snapshot', { pipelineId: p.id, revision: 2 });
    expect(old).toMatchObject({ pipelineId: p.id, revision: 2, document: { name, stages: [{ refId: 'two', type: 'APPROVAL' }] } });
    expect((await bus.request('rpc.pipelines.pipeline.snapshot', { pipelineId: p.id })).revision).toBe(3);
    const missing = (await bus.request('rpc.pipelines.pipeline.snapshot', { pipelineId: p.id, revision: 9 }).catch((e: unknown) => e)) as QueryError;
    expect(missing).toMatchObject({ code: 'NOT_FOUND', message: `pipeline ${p.id} has no revision 9` });
  });

  it('edits one stage at a time against the revision the editor saw', async () => {
    const p = (await create({ name: unique('editor'), stages: [{ refId: 'a', name: 'A', type: 'JUDGEMENT', config: {} }] })).data!.createPipeline;
    const add = await ok<{ addStage: PipelineOut }>(`mutation($id: ID!) { addStage(pipelineId: $id, expectedRevision: 1, stage: { refId: "b", name: "B", type: APPROVAL, config: {}, dependsOn: ["a"] }) { revision stages { refId dependsOn } } }`, { id: p.id });
    expect(add.addStage).toMatchObject({ revision: 2, stages: [{ refId: 'a' }, { refId: 'b', dependsOn: ['a'] }] });
    const moved = await ok<{ moveStage: PipelineOut }>(`mutation($id: ID!) { moveStage(pipelineId: $id, refId: "b", index: 0, expectedRevision: 2) { revision stages { refId } } }`, { id: p.id });
    expect(moved.moveStage.stages.map((s) => s.refId)).toEqual(['b', 'a']);
    const renamed = await ok<{ updateStage: PipelineOut }>(
      `mutation($id: ID!) { updateStage(pipelineId: $id, refId: "a", expectedRevision: 3, stage: { refId: "first", name: "First", type: JUDGEMENT, config: { options: ["go"] } }) { revision stages { refId dependsOn config } } }`,
      { id: p.id },
    );
    expect(renamed.updateStage.stages.map((s) => [s.refId, s.dependsOn])).toEqual([
      ['b', ['first']],
      ['first', []],
    ]);
    expect(renamed.updateStage.stages[1].config).toEqual({ options: ['go'] });
    const removed = await ok<{ removeStage: PipelineOut }>(`mutation($id: ID!) { removeStage(pipelineId: $id, refId: "first", expectedRevision: 4) { revision stages { refId dependsOn } } }`, { id: p.id });
    expect(removed.removeStage).toEqual({ revision: 5, stages: [{ refId: 'b', dependsOn: [] }] });
    const stale = await call(`mutation($id: ID!) { removeStage(pipelineId: $id, refId: "b", expectedRevision: 4) { revision } }`, { id: p.id });
    expect(stale.errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('deletes a pipeline unless another runs it, and frees its name', async () => {
    const name = unique('doomed');
    const target = (await create({ name, stages: [] })).data!.createPipeline;
    const callerName = unique('caller');
    const caller = (await create({ name: callerName, stages: [{ refId: 'run', name: 'Run', type: 'RUN_PIPELINE', config: { pipelineId: target.id } }] })).data!.createPipeline;
    const refused = await call(`mutation($id: ID!) { deletePipeline(id: $id) }`, { id: target.id });
    expect(refused.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(refused.errors?.[0].message).toContain(`is run by "${callerName}" (${caller.id})`);

    expect((await ok<{ deletePipeline: string }>(`mutation($id: ID!) { deletePipeline(id: $id) }`, { id: caller.id })).deletePipeline).toBe(caller.id);
    expect((await ok<{ deletePipeline: string }>(`mutation($id: ID!) { deletePipeline(id: $id) }`, { id: target.id })).deletePipeline).toBe(target.id);
    expect((await ok<{ pipeline: null }>(`query($id: ID!) { pipeline(id: $id) { id } }`, { id: target.id })).pipeline).toBeNull();
    const again = (await create({ name, stages: [] })).data!.createPipeline;
    expect(again.id).not.toBe(target.id);
  });

  it('tells environments which pipelines use a resource, so a used target cannot be deleted', async () => {
    const name = unique('uses-target');
    const p = (await create({ name, stages: [{ refId: 's', name: 'Scale', type: 'SCALE', config: { targetId: env.target, kind: 'Deployment', name: 'web', replicas: 1 } }] })).data!.createPipeline;
    const refs = await bus.request('rpc.pipelines.references', { kind: 'deployment-target', id: env.target });
    expect(refs.pipelines).toContainEqual({ id: p.id, name });
    const refused = await call(`mutation($id: ID!) { deleteDeploymentTarget(id: $id) }`, { id: env.target }, env.admin);
    expect(refused.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(refused.errors?.[0].message).toContain(`"${name}" (${p.id})`);
  });

  describe('projects: a pipeline belongs to one, and uses only its resources and pipelines', () => {
    type Role = 'VIEWER' | 'DEVELOPER' | 'ADMIN' | 'APPROVAL_ADMIN';
    type Brief = { id: string; name: string; projectId: string; project: { id: string }; latestRevision: number };
    const BRIEF = 'id name projectId project { id } latestRevision';
    let projectA: string;
    let projectB: string;
    let devA: string;
    let devB: string;
    let viewerA: string;
    let targetA: string;
    let targetB: string;
    let pipelineA: Brief;
    let pipelineB: Brief;
    const sameName = unique('same-name');

    const scale = (targetId: string) => ({ refId: 'scale', name: 'Scale', type: 'SCALE', config: { targetId, kind: 'Deployment', name: 'web', replicas: 1 } });
    const createIn = (projectId: string | undefined, input: Record<string, unknown>, token: string) =>
      call<{ createPipeline: Brief }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { ${BRIEF} } }`, { i: { ...input, ...(projectId ? { projectId } : {}) } }, token);
    const listIn = (projectId: string, token: string, search?: string) =>
      call<{ pipelines: { totalCount: number; edges: { node: Brief }[] } }>(`query($p: ID, $s: String) { pipelines(projectId: $p, search: $s) { totalCount edges { node { ${BRIEF} } } } }`, { p: projectId, s: search }, token);
    const countIn = async (projectId: string) => (await serviceQuery<{ n: number }>(platform, 'pipelines', 'SELECT count(*)::int AS n FROM pipelines WHERE project_id = $1', [projectId]))[0].n;

    beforeAll(async () => {
      projectA = await platform.createProject(unique('pipes-a'));
      projectB = await platform.createProject(unique('pipes-b'));
      const member = async (sub: string, projectId: string, roles: Role[]) => {
        await platform.setMember(projectId, sub, roles);
        return platform.token({ sub, roles: [] });
      };
      devA = await member(unique('dana'), projectA, ['DEVELOPER']);
      devB = await member(unique('dirk'), projectB, ['DEVELOPER']);
      viewerA = await member(unique('vera'), projectA, ['VIEWER']);
      const target = async (projectId: string) =>
        (
          await ok<{ createDeploymentTarget: { id: string } }>(
            `mutation($i: CreateDeploymentTargetInput!) { createDeploymentTarget(input: $i) { id } }`,
            { i: { projectId, name: unique('cluster'), apiServerUrl: 'https://k8s.example.com:6443', token: 't' } },
            env.admin,
          )
        ).createDeploymentTarget.id;
      targetA = await target(projectA);
      targetB = await target(projectB);
      // The same name in two projects: pipeline names are unique per project.
      pipelineA = (await createIn(projectA, { name: sameName, stages: [scale(targetA)] }, devA)).data!.createPipeline;
      pipelineB = (await createIn(projectB, { name: sameName, stages: [scale(targetB)] }, devB)).data!.createPipeline;
    });

    it('creates in the given project and says which one, with names unique within it', () => {
      expect(pipelineA).toMatchObject({ name: sameName, projectId: projectA, project: { id: projectA }, latestRevision: 1 });
      expect(pipelineB).toMatchObject({ name: sameName, projectId: projectB, project: { id: projectB } });
    });

    it("never lists another project's pipelines, and refuses them by id with FORBIDDEN naming the project", async () => {
      expect((await listIn(projectA, devA, sameName)).data!.pipelines).toEqual({ totalCount: 1, edges: [{ node: pipelineA }] });
      expect((await listIn(projectA, viewerA)).data!.pipelines.edges.map((e) => e.node.id)).not.toContain(pipelineB.id);
      const otherList = await listIn(projectB, devA);
      expect(otherList.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', projectId: projectB });
      expect(otherList.errors?.[0].message).toMatch(new RegExp(`in project ${projectB}.*you are not a member of it`));

      const reads: [string, Record<string, unknown>][] = [
        [`query($id: ID!) { pipeline(id: $id) { id name } }`, { id: pipelineB.id }],
        [`query($id: ID!) { exportPipeline(id: $id) }`, { id: pipelineB.id }],
        [`query($id: ID!) { pipelineRevisions(id: $id) { totalCount } }`, { id: pipelineB.id }],
      ];
      for (const [query, variables] of reads) {
        const res = await call(query, variables, devA);
        expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', projectId: projectB });
        expect(JSON.stringify(res)).not.toContain(sameName);
      }
      // Another project's member is refused every change too, and nothing changes.
      const changes: [string, Record<string, unknown>][] = [
        [`mutation($id: ID!, $i: CreatePipelineInput!) { updatePipeline(id: $id, input: $i, expectedRevision: 1) { id } }`, { id: pipelineB.id, i: { name: sameName, stages: [] } }],
        [`mutation($id: ID!) { deletePipeline(id: $id) }`, { id: pipelineB.id }],
        [`mutation($id: ID!) { removeStage(pipelineId: $id, refId: "scale", expectedRevision: 1) { id } }`, { id: pipelineB.id }],
        [`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { projectId: projectB, name: unique('intruder'), stages: [] } }],
      ];
      for (const [query, variables] of changes) {
        const res = await call(query, variables, devA);
        expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', projectId: projectB, requiredRoles: ['DEVELOPER', 'ADMIN'] });
      }
      expect(await countIn(projectB)).toBe(1);
      expect((await call<{ pipeline: Brief }>(`query($id: ID!) { pipeline(id: $id) { ${BRIEF} } }`, { id: pipelineB.id }, devB)).data!.pipeline).toEqual(pipelineB);
    });

    it("refuses a stage naming another project's deployment target, with the field path, storing nothing", async () => {
      const before = await countIn(projectA);
      const res = await createIn(projectA, { name: unique('borrows'), stages: [{ refId: 'j', name: 'Judge', type: 'JUDGEMENT', config: {} }, scale(targetB)] }, devA);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'stages[1].config.targetId' });
      expect(problems(res)).toEqual([{ field: 'stages[1].config.targetId', message: expect.stringMatching(new RegExp(`deployment target \\(id "${targetB}"\\) that belongs to another project`)) }]);
      expect(await countIn(projectA)).toBe(before);

      // The same on update: the pipeline stays at its revision.
      const update = await call(`mutation($id: ID!, $i: CreatePipelineInput!) { updatePipeline(id: $id, input: $i, expectedRevision: 1) { id } }`, { id: pipelineA.id, i: { name: sameName, stages: [scale(targetB)] } }, devA);
      expect(problems(update)).toEqual([{ field: 'stages[0].config.targetId', message: expect.stringMatching(/belongs to another project/) }]);
      expect((await serviceQuery<{ revision: number }>(platform, 'pipelines', 'SELECT revision FROM pipelines WHERE id = $1', [pipelineA.id]))[0].revision).toBe(1);
    });

    it('refuses RUN_PIPELINE of a pipeline of another project, with the field path', async () => {
      const before = await countIn(projectA);
      const res = await createIn(projectA, { name: unique('runs-b'), stages: [{ refId: 'child', name: 'Child', type: 'RUN_PIPELINE', config: { pipelineId: pipelineB.id } }] }, devA);
      expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(problems(res)).toEqual([{ field: 'stages[0].config.pipelineId', message: expect.stringMatching(new RegExp(`names a pipeline \\(id "${pipelineB.id}"\\) that belongs to another project`)) }]);
      expect(await countIn(projectA)).toBe(before);
      // Its own project's pipeline is fine.
      const own = await createIn(projectA, { name: unique('runs-a'), stages: [{ refId: 'child', name: 'Child', type: 'RUN_PIPELINE', config: { pipelineId: pipelineA.id } }] }, devA);
      expect(own.errors).toBeUndefined();
    });

    it('keeps a pipeline in its project: updatePipeline with another projectId is BAD_USER_INPUT', async () => {
      const res = await call(`mutation($id: ID!, $i: CreatePipelineInput!) { updatePipeline(id: $id, input: $i, expectedRevision: 1) { id } }`, { id: pipelineA.id, i: { projectId: projectB, name: sameName, stages: [] } }, devA);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.projectId' });
    });

    it('lets a VIEWER of the project read but not change anything', async () => {
      expect((await call<{ pipeline: Brief }>(`query($id: ID!) { pipeline(id: $id) { ${BRIEF} } }`, { id: pipelineA.id }, viewerA)).data!.pipeline).toEqual(pipelineA);
      const { exportPipeline: yaml } = await ok<{ exportPipeline: string }>(`query($id: ID!) { exportPipeline(id: $id) }`, { id: pipelineA.id }, viewerA);
      const stage = `{ refId: "b", name: "B", type: APPROVAL, config: {} }`;
      const attempts: [string, Record<string, unknown>][] = [
        [`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { projectId: projectA, name: unique('nope'), stages: [] } }],
        [`mutation($id: ID!, $i: CreatePipelineInput!) { updatePipeline(id: $id, input: $i, expectedRevision: 1) { id } }`, { id: pipelineA.id, i: { name: sameName, stages: [] } }],
        [`mutation($id: ID!) { deletePipeline(id: $id) }`, { id: pipelineA.id }],
        [`mutation($id: ID!) { restorePipelineRevision(id: $id, revision: 1) { id } }`, { id: pipelineA.id }],
        [`mutation($y: String!, $p: ID) { importPipeline(yaml: $y, mode: REPLACE, projectId: $p) { id } }`, { y: yaml, p: projectA }],
        [`mutation($id: ID!) { addStage(pipelineId: $id, expectedRevision: 1, stage: ${stage}) { id } }`, { id: pipelineA.id }],
        [`mutation($id: ID!) { updateStage(pipelineId: $id, refId: "scale", expectedRevision: 1, stage: ${stage}) { id } }`, { id: pipelineA.id }],
        [`mutation($id: ID!) { removeStage(pipelineId: $id, refId: "scale", expectedRevision: 1) { id } }`, { id: pipelineA.id }],
        [`mutation($id: ID!) { moveStage(pipelineId: $id, refId: "scale", index: 0, expectedRevision: 1) { id } }`, { id: pipelineA.id }],
      ];
      const before = await countIn(projectA);
      for (const [query, variables] of attempts) {
        const res = await call(query, variables, viewerA);
        expect({ query, error: res.errors?.[0].extensions }).toEqual({ query, error: expect.objectContaining({ code: 'FORBIDDEN', projectId: projectA, requiredRoles: ['DEVELOPER', 'ADMIN'] }) });
        expect(res.errors?.[0].message).toMatch(/you have VIEWER there/);
      }
      expect(await countIn(projectA)).toBe(before);
      expect((await serviceQuery<{ revision: number; deleted_at: Date | null }>(platform, 'pipelines', 'SELECT revision, deleted_at FROM pipelines WHERE id = $1', [pipelineA.id]))[0]).toEqual({ revision: 1, deleted_at: null });
    });

    it('imports YAML into the given project (the YAML carries no project) and replaces by name within it', async () => {
      const { exportPipeline: yaml } = await ok<{ exportPipeline: string }>(`query($id: ID!) { exportPipeline(id: $id) }`, { id: pipelineA.id }, devA);
      expect(yaml).not.toMatch(/projectId/);
      // REPLACE finds the pipeline of that name in A, not B's namesake.
      const replaced = await ok<{ importPipeline: Brief }>(`mutation($y: String!, $p: ID) { importPipeline(yaml: $y, mode: REPLACE, projectId: $p) { ${BRIEF} } }`, { y: yaml, p: projectA }, devA);
      expect(replaced.importPipeline).toMatchObject({ id: pipelineA.id, projectId: projectA, latestRevision: 2 });
      const copyName = unique('imported');
      const copy = await ok<{ importPipeline: Brief }>(`mutation($y: String!, $p: ID) { importPipeline(yaml: $y, projectId: $p) { ${BRIEF} } }`, { y: yaml.replace(/^name: .*$/m, `name: ${copyName}`), p: projectA }, devA);
      expect(copy.importPipeline).toMatchObject({ name: copyName, projectId: projectA });
      const withProject = await call(`mutation($y: String!, $p: ID) { importPipeline(yaml: $y, projectId: $p) { id } }`, { y: `${yaml}projectId: ${projectB}\n`, p: projectA }, devA);
      expect(problems(withProject)).toContainEqual({ field: 'document', message: 'has unknown field(s) projectId' });
    });

    it("resolves Project.pipelines through the gateway, for the project's members only", async () => {
      const query = `query($id: ID!, $s: String) { project(id: $id) { id pipelines(search: $s) { totalCount edges { node { id projectId name } } } } }`;
      const res = await call<{ project: { id: string; pipelines: { totalCount: number; edges: { node: { id: string; projectId: string } }[] } } }>(query, { id: projectA, s: sameName }, viewerA);
      expect(res.errors).toBeUndefined();
      expect(res.data!.project).toEqual({ id: projectA, pipelines: { totalCount: 1, edges: [{ node: { id: pipelineA.id, projectId: projectA, name: sameName } }] } });
      const foreign = await call(query, { id: projectB, s: sameName }, viewerA);
      expect(foreign.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(JSON.stringify(foreign)).not.toContain(pipelineB.id);
    });

    it('puts the project in run snapshots and tells the projects service how many pipelines a project holds', async () => {
      expect(await bus.request('rpc.pipelines.pipeline.snapshot', { pipelineId: pipelineB.id })).toMatchObject({ pipelineId: pipelineB.id, projectId: projectB, revision: 1 });
      const counted = await platform.createProject(unique('pipes-counted'));
      expect(await bus.request('rpc.pipelines.project.usage', { projectId: counted })).toEqual({ service: 'pipelines', counts: { pipelines: 0 } });
      const make = async () => (await createIn(counted, { name: unique('counted'), stages: [] }, env.admin)).data!.createPipeline.id;
      await make();
      const doomed = await make();
      await ok(`mutation($id: ID!) { deletePipeline(id: $id) }`, { id: doomed }, env.admin);
      expect(await bus.request('rpc.pipelines.project.usage', { projectId: counted })).toEqual({ service: 'pipelines', counts: { pipelines: 1 } });
    });
  });

  it('lets a VIEWER read but not write, and records events for changes', async () => {
    const seen: string[] = [];
    let resolveSeen!: () => void;
    const arrived = new Promise<void>((r) => (resolveSeen = r));
    const name = unique('evented');
    const consumer = await bus.consume(['evt.pipelines.pipeline.changed.v1'], { durable: 'pipelines-spec-events' }, async (e) => {
      if (e.name === name) {
        seen.push(`${e.change}@${e.revision} by ${e.by}`);
        resolveSeen();
      }
    });
    try {
      const denied = await call(`mutation { createPipeline(input: { name: "nope", stages: [] }) { id } }`, undefined, viewer);
      expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      await create({ name, stages: [] });
      await arrived;
      expect(seen).toEqual(['created@1 by dee']);
    } finally {
      await consumer.stop();
    }
  });
});
