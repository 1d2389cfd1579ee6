import { gql, startPlatform, type TestPlatform } from '@pipewright/testing';

/**
 * Malformed arguments through the gateway, for every list and every id or revision argument of
 * the schema: each is refused with BAD_USER_INPUT naming the argument (or answered null or
 * NOT_FOUND where that is the field's documented answer), never an internal error from SQL.
 */

const cursor = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString('base64url');

/** Cursors no list writes: each is wrong for every list's shape (timestamp+id, name+id, key, revision). */
const MALFORMED_CURSORS: [string, string][] = [
  ['two strings that are no timestamp, name or id', cursor(['x', 'y'])],
  ['a timestamp and no id', cursor(['2025-03-04T05:06:07.089Z', 'y'])],
  ['three parts', cursor(['a', 'b', 'c'])],
  ['no parts', cursor([])],
  ['text PostgreSQL cannot hold', cursor(['\u0000'])],
  ['numbers', cursor([1, 2])],
  ['no base64 JSON at all', 'garbage!'],
];

interface Arg {
  name: string;
  defaultValue: string | null;
  type: TypeRef;
}
interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface Field {
  name: string;
  args: Arg[];
  type: TypeRef;
}

const named = (t: TypeRef): string => (t.ofType ? named(t.ofType) : t.name!);
const required = (a: Arg) => a.type.kind === 'NON_NULL' && a.defaultValue === null;

describe('malformed arguments through the gateway', () => {
  let platform: TestPlatform;
  let token: string;
  let types: { name: string; kind: string; fields: Field[] | null }[];
  let projectId: string;
  let pipelineId: string;
  let runId: string;
  let triggerId: string;

  const call = (query: string, variables?: Record<string, unknown>) => gql<Record<string, unknown>>(platform.gatewayUrl, query, { token, variables });
  const ok = async <T>(query: string, variables?: Record<string, unknown>): Promise<T> => {
    const res = await call(query, variables);
    if (res.errors?.length) throw new Error(`${query}: ${JSON.stringify(res.errors)}`);
    return res.data as T;
  };

  beforeAll(async () => {
    platform = await startPlatform('bad-args');
    token = await platform.token({ sub: 'root', roles: ['ADMIN'] });
    ({ __schema: { types } } = await ok<{ __schema: { types: typeof types } }>(
      `{ __schema { types { name kind fields { name args { name defaultValue type { ...T } } type { ...T } } } } }
       fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`,
    ));
    // One of everything a list can hold, so each list's own cursor is read back too.
    projectId = (await ok<{ createProject: { id: string } }>(`mutation { createProject(input: { slug: "bad-args", name: "Bad args" }) { id } }`)).createProject.id;
    pipelineId = (
      await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, {
        i: { projectId, name: 'Gate', stages: [{ refId: 'gate', name: 'Gate', type: 'JUDGEMENT', config: { description: 'go?', options: ['go'] } }] },
      })
    ).createPipeline.id;
    runId = (await ok<{ runPipeline: { id: string } }>(`mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }`, { p: pipelineId })).runPipeline.id;
    await ok(`mutation($p: ID!) { createApiToken(input: { projectId: $p, name: "ci", roles: [VIEWER] }) { token } }`, { p: projectId });
    await ok(`mutation($p: ID!) { createSourceRepository(input: { projectId: $p, name: "app", provider: GITHUB, url: "https://github.com/acme/app" }) { id } }`, { p: projectId });
    // Two triggers (Pipeline.triggers pages) and a delivery (Trigger.deliveries).
    const hook = await ok<{ createTrigger: { trigger: { id: string; hookUrl: string }; secret: string } }>(`mutation($p: ID!) { createTrigger(input: { pipelineId: $p, type: WEBHOOK, name: "hook", config: {} }) { trigger { id hookUrl } secret } }`, { p: pipelineId });
    await ok(`mutation($p: ID!) { createTrigger(input: { pipelineId: $p, type: CRON, name: "nightly", config: { expression: "0 0 3 * * *" } }) { trigger { id } } }`, { p: pipelineId });
    triggerId = hook.createTrigger.trigger.id;
    for (const n of [1, 2]) {
      const sent = await fetch(hook.createTrigger.trigger.hookUrl, { method: 'POST', headers: { authorization: `Bearer ${hook.createTrigger.secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ n }) });
      expect(sent.status).toBe(202);
    }
  });
  afterAll(async () => {
    await platform?.stop();
  });

  /** Every connection field of the schema, as a query taking `$after` (on a project for Project's). */
  function lists(): { name: string; query: string; variables: Record<string, unknown> }[] {
    const found = types.flatMap((t) => (t.kind === 'OBJECT' && !t.name.startsWith('__') ? (t.fields ?? []).filter((f) => named(f.type).endsWith('Connection')).map((f) => ({ on: t.name, field: f })) : []));
    // Lists on an entity are reached through its lookup by id: project(id), pipeline(id), trigger(id).
    const holders: Record<string, [string, () => string]> = { Project: ['project', () => projectId], Pipeline: ['pipeline', () => pipelineId], Trigger: ['trigger', () => triggerId] };
    const elsewhere = found.filter((l) => l.on !== 'Query' && !(l.on in holders)).map((l) => `${l.on}.${l.field.name}`);
    // A list on another type needs a way to reach one here.
    expect(elsewhere).toEqual([]);
    return found.map(({ on, field }) => {
      const known: Record<string, [string, string, unknown]> = { id: ['$id', 'ID!', pipelineId], projectId: ['$p', 'ID', projectId], pipelineId: ['$pipeline', 'ID!', pipelineId] };
      const args = field.args.filter((a) => a.name in known && (a.name === 'projectId' || required(a)));
      const missing = field.args.filter((a) => required(a) && !(a.name in known));
      expect(missing.map((a) => `${on}.${field.name}(${a.name})`)).toEqual([]);
      const declared = [['$after', 'String', null], ...args.map((a) => known[a.name])];
      const passed = ['after: $after', ...args.map((a) => `${a.name}: ${known[a.name][0]}`)].join(', ');
      const variables = Object.fromEntries(args.map((a) => [known[a.name][0].slice(1), known[a.name][2]]));
      const select = `${field.name}(first: 1, ${passed}) { totalCount pageInfo { endCursor } }`;
      if (on === 'Query') return { name: field.name, query: `query(${declared.map(([v, t]) => `${v}: ${t}`).join(', ')}) { ${select} }`, variables };
      const [lookup, id] = holders[on];
      return { name: `${on}.${field.name}`, query: `query($after: String, $holder: ID!) { ${lookup}(id: $holder) { ${select} } }`, variables: { holder: id() } };
    });
  }

  it('finds the lists of every service in the schema', () => {
    expect(lists().map((l) => l.name).sort()).toEqual(
      expect.arrayContaining(['builds', 'runs', 'pipelines', 'pipelineRevisions', 'projects', 'deploymentTargets', 'sourceRepositories', 'Project.members', 'Project.apiTokens', 'Project.runs', 'Project.builds', 'Project.pipelines']),
    );
  });

  it('refuses a malformed cursor on every list with BAD_USER_INPUT naming after', async () => {
    const answers: string[] = [];
    for (const list of lists()) {
      for (const [what, after] of MALFORMED_CURSORS) {
        const res = await call(list.query, { ...list.variables, after });
        const ext = res.errors?.[0]?.extensions as { code?: string; field?: string } | undefined;
        answers.push(`${list.name} with ${what}: ${ext?.code} ${ext?.field ?? ''} ${ext?.code === 'BAD_USER_INPUT' ? '' : res.errors?.[0]?.message ?? 'no error'}`.trim());
      }
    }
    expect(answers.filter((a) => !a.endsWith(': BAD_USER_INPUT after'))).toEqual([]);
    expect(answers.length).toBeGreaterThanOrEqual(20 * MALFORMED_CURSORS.length);
  });

  it("reads every list's own cursor back, one shape of each kind at least", async () => {
    const paged: string[] = [];
    for (const list of lists()) {
      const first = await call(list.query, { ...list.variables, after: null });
      expect(first.errors).toBeUndefined();
      const [on, field] = list.name.includes('.') ? list.name.split('.') : [null, list.name];
      const page = (on ? (first.data![on[0].toLowerCase() + on.slice(1)] as Record<string, unknown>)[field] : first.data![list.name]) as { pageInfo: { endCursor: string | null } };
      if (!page.pageInfo.endCursor) continue;
      const next = await call(list.query, { ...list.variables, after: page.pageInfo.endCursor });
      expect({ list: list.name, errors: next.errors }).toEqual({ list: list.name, errors: undefined });
      paged.push(list.name);
    }
    // created_at+id, name+id, key and revision cursors, each read back by a list that wrote one.
    expect(paged).toEqual(expect.arrayContaining(['runs', 'Project.apiTokens', 'pipelines', 'sourceRepositories', 'projects', 'Project.members', 'pipelineRevisions', 'triggers', 'Pipeline.triggers', 'Trigger.deliveries']));
  });

  /**
   * Each id or revision argument of the schema with a malformed value, and its answer: BAD_USER_INPUT
   * naming it, or what the field documents for an id that names nothing (null, NOT_FOUND). `covers`
   * lists the arguments a case checks; the schema's own list of them must be covered.
   */
  type Answer = { bad: string } | 'null' | 'NOT_FOUND' | 'answers';
  const KINDS = [
    ['SourceRepository', 'sourceRepository', 'sourceRepositories', '{ name: "r", provider: GITHUB, url: "https://github.com/acme/r" }'],
    ['BuildTool', 'buildTool', 'buildTools', '{ name: "j", url: "https://jenkins.example.com" }'],
    ['ImageRegistry', 'imageRegistry', 'imageRegistries', '{ name: "i", url: "https://registry.example.com" }'],
    ['ChartRepository', 'chartRepository', 'chartRepositories', '{ name: "c", url: "https://charts.example.com" }'],
    ['DeploymentTarget', 'deploymentTarget', 'deploymentTargets', '{ name: "d", apiServerUrl: "https://kube.example.com", token: "t" }'],
    ['Secret', 'secret', 'secrets', '{ name: "S", value: "value" }'],
  ] as const;
  const STAGE = '{ refId: "gate", name: "Gate", type: JUDGEMENT, config: { options: ["go"] } }';
  const cases = (): { covers: string[]; query: string; answer: Answer }[] => [
    // builds
    { covers: ['Query.build.id'], query: `{ build(id: "nope") { id } }`, answer: 'null' },
    { covers: ['Query.builds.projectId'], query: `{ builds(projectId: "nope") { totalCount } }`, answer: { bad: 'projectId' } },
    { covers: ['Query.builds.pipelineId'], query: `{ builds(pipelineId: "nope") { totalCount } }`, answer: { bad: 'pipelineId' } },
    { covers: ['Query.builds.runId'], query: `{ builds(runId: "nope") { totalCount } }`, answer: { bad: 'runId' } },
    // A stage's refId is any name the pipeline gave it: an unknown one narrows the list to nothing.
    { covers: ['Query.builds.stageRefId'], query: `{ builds(stageRefId: "no such stage") { totalCount } }`, answer: 'answers' },
    // environments
    ...KINDS.flatMap(([type, one, many, input]) => [
      { covers: [`Query.${one}.id`], query: `{ ${one}(id: "nope") { id } }`, answer: 'null' as const },
      { covers: [`Query.${many}.projectId`], query: `{ ${many}(projectId: "nope") { totalCount } }`, answer: { bad: 'projectId' } },
      { covers: [`Mutation.create${type}.input.projectId`], query: `mutation { create${type}(input: ${input.replace('{ ', '{ projectId: "nope", ')}) { id } }`, answer: { bad: 'input.projectId' } },
      { covers: [`Mutation.update${type}.id`], query: `mutation { update${type}(id: "nope", input: { name: "x" }) { id } }`, answer: { bad: 'id' } },
      { covers: [`Mutation.delete${type}.id`], query: `mutation { delete${type}(id: "nope", force: false) }`, answer: { bad: 'id' } },
      { covers: [`Mutation.test${type}.id`], query: `mutation { test${type}(id: "nope") { ok } }`, answer: { bad: 'id' } },
    ]),
    // executions
    { covers: ['Query.run.id', 'Query.run.atSequence'], query: `{ run(id: "nope", atSequence: -1) { id } }`, answer: { bad: 'id' } },
    { covers: ['Query.runs.projectId'], query: `{ runs(projectId: "nope") { totalCount } }`, answer: { bad: 'projectId' } },
    { covers: ['Query.runs.pipelineId'], query: `{ runs(pipelineId: "x") { totalCount } }`, answer: { bad: 'pipelineId' } },
    { covers: ['Mutation.runPipeline.pipelineId'], query: `mutation { runPipeline(pipelineId: "nope") { id } }`, answer: { bad: 'pipelineId' } },
    { covers: ['Mutation.runPipeline.revision'], query: `mutation { runPipeline(pipelineId: "${pipelineId}", revision: -1) { id } }`, answer: { bad: 'revision' } },
    { covers: ['Mutation.cancelRun.runId'], query: `mutation { cancelRun(runId: "nope") { id } }`, answer: { bad: 'runId' } },
    { covers: ['Mutation.restartStage.runId', 'Mutation.restartStage.refId'], query: `mutation { restartStage(runId: "nope", refId: "gate") { id } }`, answer: { bad: 'runId' } },
    { covers: ['Mutation.judge.runId', 'Mutation.judge.refId'], query: `mutation { judge(runId: "nope", refId: "gate", decision: CONTINUE) { status } }`, answer: { bad: 'runId' } },
    { covers: ['Mutation.approve.runId', 'Mutation.approve.refId'], query: `mutation { approve(runId: "nope", refId: "gate", decision: CONTINUE) { status } }`, answer: { bad: 'runId' } },
    // pipelines
    { covers: ['Query.pipeline.id'], query: `{ pipeline(id: "nope") { id } }`, answer: 'null' },
    { covers: ['Query.pipeline.revision'], query: `{ pipeline(id: "${pipelineId}", revision: -1) { id } }`, answer: { bad: 'revision' } },
    { covers: ['Query.pipelines.projectId'], query: `{ pipelines(projectId: "nope") { totalCount } }`, answer: { bad: 'projectId' } },
    { covers: ['Query.pipelineRevisions.id'], query: `{ pipelineRevisions(id: "nope") { totalCount } }`, answer: { bad: 'id' } },
    { covers: ['Query.exportPipeline.id'], query: `{ exportPipeline(id: "nope") }`, answer: { bad: 'id' } },
    { covers: ['Query.exportPipeline.revision'], query: `{ exportPipeline(id: "${pipelineId}", revision: -1) }`, answer: { bad: 'revision' } },
    { covers: ['Mutation.createPipeline.input.projectId'], query: `mutation { createPipeline(input: { projectId: "nope", name: "x", stages: [] }) { id } }`, answer: { bad: 'input.projectId' } },
    { covers: ['Mutation.updatePipeline.id', 'Mutation.updatePipeline.expectedRevision'], query: `mutation { updatePipeline(id: "nope", input: { name: "x", stages: [] }, expectedRevision: 1) { id } }`, answer: { bad: 'id' } },
    { covers: ['Mutation.deletePipeline.id'], query: `mutation { deletePipeline(id: "nope") }`, answer: { bad: 'id' } },
    { covers: ['Mutation.restorePipelineRevision.id', 'Mutation.restorePipelineRevision.expectedRevision'], query: `mutation { restorePipelineRevision(id: "nope", revision: 1, expectedRevision: 1) { id } }`, answer: { bad: 'id' } },
    { covers: ['Mutation.restorePipelineRevision.revision'], query: `mutation { restorePipelineRevision(id: "${pipelineId}", revision: -1) { id } }`, answer: { bad: 'revision' } },
    { covers: ['Mutation.importPipeline.projectId'], query: `mutation { importPipeline(yaml: "name: x\\nstages: []", mode: CREATE, projectId: "nope") { id } }`, answer: { bad: 'projectId' } },
    { covers: ['Mutation.addStage.pipelineId', 'Mutation.addStage.expectedRevision'], query: `mutation { addStage(pipelineId: "nope", stage: ${STAGE}, expectedRevision: 1) { id } }`, answer: { bad: 'pipelineId' } },
    { covers: ['Mutation.updateStage.pipelineId', 'Mutation.updateStage.expectedRevision'], query: `mutation { updateStage(pipelineId: "nope", refId: "gate", stage: ${STAGE}, expectedRevision: 1) { id } }`, answer: { bad: 'pipelineId' } },
    { covers: ['Mutation.updateStage.refId'], query: `mutation { updateStage(pipelineId: "${pipelineId}", refId: "nope", stage: ${STAGE}, expectedRevision: 1) { id } }`, answer: 'NOT_FOUND' },
    { covers: ['Mutation.removeStage.pipelineId', 'Mutation.removeStage.refId', 'Mutation.removeStage.expectedRevision'], query: `mutation { removeStage(pipelineId: "nope", refId: "gate", expectedRevision: 1) { id } }`, answer: { bad: 'pipelineId' } },
    { covers: ['Mutation.moveStage.pipelineId', 'Mutation.moveStage.refId', 'Mutation.moveStage.expectedRevision'], query: `mutation { moveStage(pipelineId: "nope", refId: "gate", index: 0, expectedRevision: 1) { id } }`, answer: { bad: 'pipelineId' } },
    // triggers
    { covers: ['Query.trigger.id'], query: `{ trigger(id: "nope") { id } }`, answer: 'null' },
    { covers: ['Query.triggers.pipelineId'], query: `{ triggers(pipelineId: "nope") { totalCount } }`, answer: { bad: 'pipelineId' } },
    { covers: ['Mutation.createTrigger.input.pipelineId'], query: `mutation { createTrigger(input: { pipelineId: "nope", type: WEBHOOK, name: "x", config: {} }) { secret } }`, answer: { bad: 'input.pipelineId' } },
    { covers: ['Mutation.updateTrigger.id'], query: `mutation { updateTrigger(id: "nope", input: { enabled: false }) { id } }`, answer: { bad: 'id' } },
    { covers: ['Mutation.deleteTrigger.id'], query: `mutation { deleteTrigger(id: "nope") }`, answer: { bad: 'id' } },
    { covers: ['Mutation.rotateTriggerSecret.id'], query: `mutation { rotateTriggerSecret(id: "nope") { secret } }`, answer: { bad: 'id' } },
    { covers: ['Mutation.redeliverTriggerDelivery.id'], query: `mutation { redeliverTriggerDelivery(id: "nope") { id } }`, answer: { bad: 'id' } },
    // projects
    { covers: ['Query.project.id'], query: `{ project(id: "nope") { id } }`, answer: 'null' },
    { covers: ['Mutation.updateProject.id'], query: `mutation { updateProject(id: "nope", input: { name: "x" }) { id } }`, answer: { bad: 'id' } },
    { covers: ['Mutation.deleteProject.id'], query: `mutation { deleteProject(id: "nope", force: false) }`, answer: { bad: 'id' } },
    { covers: ['Mutation.setProjectMember.projectId'], query: `mutation { setProjectMember(projectId: "nope", subject: "ada", roles: [VIEWER]) { subject } }`, answer: { bad: 'projectId' } },
    { covers: ['Mutation.removeProjectMember.projectId'], query: `mutation { removeProjectMember(projectId: "nope", subject: "ada") }`, answer: { bad: 'projectId' } },
    { covers: ['Mutation.createApiToken.input.projectId'], query: `mutation { createApiToken(input: { projectId: "nope", name: "t", roles: [VIEWER] }) { token } }`, answer: { bad: 'input.projectId' } },
    { covers: ['Mutation.revokeApiToken.id'], query: `mutation { revokeApiToken(id: "nope") { id } }`, answer: { bad: 'id' } },
  ];

  it('covers every id and revision argument of the schema', () => {
    const covered = new Set(cases().flatMap((c) => c.covers));
    const isId = (a: Arg) => named(a.type) === 'ID' || /^(revision|expectedRevision|atSequence)$/.test(a.name);
    const args = types
      .filter((t) => t.name === 'Query' || t.name === 'Mutation')
      .flatMap((t) => (t.fields ?? []).flatMap((f) => f.args.filter(isId).map((a) => `${t.name}.${f.name}.${a.name}`)));
    expect(args.filter((a) => !covered.has(a))).toEqual([]);
  });

  it('answers a malformed id or revision with BAD_USER_INPUT naming it, or the documented null or NOT_FOUND, never an internal error', async () => {
    const seen: { query: string; answer: unknown }[] = [];
    for (const c of cases()) {
      const res = await call(c.query);
      const error = res.errors?.[0];
      const ext = error?.extensions as { code?: string; field?: string } | undefined;
      const data = res.data ? Object.values(res.data)[0] : undefined;
      const answer: unknown = !error ? (data === null ? 'null' : 'answers') : ext?.code === 'BAD_USER_INPUT' && error.message.includes(ext.field ?? '?') ? { bad: ext.field } : (ext?.code ?? error.message);
      seen.push({ query: c.query, answer });
    }
    expect(seen).toEqual(cases().map((c) => ({ query: c.query, answer: c.answer })));
  });

  it('still answers NOT_FOUND for a well-formed id that names nothing, where a malformed one is BAD_USER_INPUT', async () => {
    // The changes and lookups that take one thing's id: refusing the malformed id must not have
    // turned the missing-thing answer into something else.
    const byId = /^(Query\.(pipelineRevisions|exportPipeline)\.id|Mutation\.((update|delete|test)\w+\.id|(restorePipelineRevision|revokeApiToken)\.id|(addStage|updateStage|removeStage|moveStage)\.pipelineId|(set|remove)ProjectMember\.projectId|createApiToken\.input\.projectId))$/;
    const missing = '00000000-0000-4000-8000-00000000abcd';
    const checked = cases().filter((c) => byId.test(c.covers[0]) && typeof c.answer === 'object');
    const seen: { query: string; code: unknown }[] = [];
    for (const c of checked) {
      const query = c.query.replace('"nope"', `"${missing}"`);
      const res = await call(query);
      seen.push({ query, code: res.errors?.[0]?.extensions?.code ?? res.errors?.[0]?.message ?? 'no error' });
    }
    expect(seen).toEqual(seen.map((s) => ({ query: s.query, code: 'NOT_FOUND' })));
    // update, delete and test of 6 kinds; 9 of pipelines; 6 of projects; update and delete of triggers.
    expect(checked).toHaveLength(6 * 3 + 9 + 6 + 2);
  });

  it("answers a service's own error code as its GraphQL code, telling the code as the reason", async () => {
    const unrecorded = await call(`query($r: ID!) { run(id: $r, atSequence: 999999) { id } }`, { r: runId });
    expect(unrecorded.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'STATE_NOT_RECORDED', field: 'atSequence' });
    const taken = await call(`mutation($p: ID!) { createPipeline(input: { projectId: $p, name: "Gate", stages: [] }) { id } }`, { p: projectId });
    expect(taken.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'NAME_TAKEN', field: 'name' });
  });
});
