import { DEFAULT_PROJECT_ID, TERMINAL_RUN_STATUSES, type Role } from '@pipewright/contracts';
import { gql, startPlatform, testEnv, waitFor, type GraphQLResponse, type TestPlatform } from '@pipewright/testing';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * Issue 11 across the whole platform: two projects, A and B, with members of each; nothing of B
 * reaches A's members through any list, any lookup by id or any federated field; a VIEWER of A can
 * call no mutation at all; API tokens work for their project and roles only.
 */
describe('projects: ownership and access across every service', () => {
  let platform: TestPlatform;
  const tokens: Record<string, string> = {};
  const A = { id: '', slug: 'team-a' } as Fixture;
  const B = { id: '', slug: 'team-b' } as Fixture;

  interface Fixture {
    id: string;
    slug: string;
    resources: Record<string, string>;
    pipelineId: string;
    runId: string;
    buildId: string;
    apiTokenId: string;
    triggerId: string;
    deliveryId: string;
  }

  const call = <T = Record<string, unknown>>(who: string, query: string, variables?: Record<string, unknown>) => gql<T>(platform.gatewayUrl, query, { token: tokens[who], variables });
  const ok = async <T = Record<string, unknown>>(who: string, query: string, variables?: Record<string, unknown>): Promise<T> => {
    const res = await call<T>(who, query, variables);
    if (res.errors?.length) throw new Error(`${who}: ${JSON.stringify(res.errors)}`);
    return res.data!;
  };
  const forbidden = (res: GraphQLResponse<unknown>) => {
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    return res.errors![0].message;
  };

  const member = async (name: string, projectId: string, roles: Role[]) => {
    await platform.setMember(projectId, name, roles);
    tokens[name] = await platform.token({ sub: name, roles: [] });
  };

  /** Environment resources of every kind, a pipeline (Source then Judgement) and a run that waits in it, with its build. */
  async function populate(p: Fixture, admin: string, dev: string) {
    const create = async (kind: string, input: Record<string, unknown>) => {
      const data = await ok<Record<string, { id: string }>>(admin, `mutation($i: Create${kind}Input!) { create${kind}(input: $i) { id } }`, { i: { projectId: p.id, name: `${p.slug}-${kind}`, ...input } });
      return data[`create${kind}`].id;
    };
    p.resources = {
      SourceRepository: await create('SourceRepository', { provider: 'GITHUB', url: testEnv('GIT_SAMPLE_REPO_URL'), token: testEnv('GIT_TOKEN'), defaultBranch: 'main' }),
      DeploymentTarget: await create('DeploymentTarget', { apiServerUrl: 'https://127.0.0.1:6443', insecureSkipTlsVerify: true, token: 'not-a-real-token', defaultNamespace: 'default' }),
      ImageRegistry: await create('ImageRegistry', { url: `http://${testEnv('REGISTRY_URL')}`, insecure: true }),
      ChartRepository: await create('ChartRepository', { url: testEnv('CHART_REPO_URL') }),
      BuildTool: await create('BuildTool', { kind: 'JENKINS', url: testEnv('JENKINS_URL'), username: testEnv('JENKINS_USER'), apiToken: testEnv('JENKINS_TOKEN') }),
      Secret: await create('Secret', { name: `${p.slug.replace(/-/g, '_')}_SECRET`, value: `${p.slug}-secret-value` }),
    };
    const created = await ok<{ createPipeline: { id: string; projectId: string } }>(dev, `mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id projectId } }`, {
      i: {
        projectId: p.id,
        name: `${p.slug}-pipeline`,
        stages: [
          { refId: 'source', name: 'Source', type: 'SOURCE_GITHUB', config: { repositoryId: p.resources.SourceRepository, branch: 'main' } },
          { refId: 'judge', name: 'Judge', type: 'JUDGEMENT', dependsOn: ['source'], config: { description: 'ship it?', options: ['ship', 'hold'] } },
        ],
      },
    });
    expect(created.createPipeline.projectId).toBe(p.id);
    p.pipelineId = created.createPipeline.id;
    p.runId = (await ok<{ runPipeline: { id: string } }>(dev, `mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }`, { p: p.pipelineId })).runPipeline.id;
    const waiting = await waitFor(`${p.slug}'s run to wait for its judgement`, async () => {
      const { run } = await ok<{ run: { status: string; projectId: string } }>(dev, `query($id: ID!) { run(id: $id) { status projectId } }`, { id: p.runId });
      if (TERMINAL_RUN_STATUSES.includes(run.status as never)) throw new Error(`the run ended ${run.status}`);
      return run.status === 'WAITING' ? run : undefined;
    });
    expect(waiting.projectId).toBe(p.id);
    const { builds } = await ok<{ builds: { edges: { node: { id: string; projectId: string } }[] } }>(dev, `query($r: ID!) { builds(runId: $r) { edges { node { id projectId } } } }`, { r: p.runId });
    expect(builds.edges).toHaveLength(1);
    expect(builds.edges[0].node.projectId).toBe(p.id);
    p.buildId = builds.edges[0].node.id;
    const token = await ok<{ createApiToken: { apiToken: { id: string } } }>(admin, `mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { apiToken { id } } }`, { i: { projectId: p.id, name: `${p.slug}-deploy-bot`, roles: ['VIEWER'] } });
    p.apiTokenId = token.createApiToken.apiToken.id;
    // A trigger with a delivery (a generic webhook, sent to its hook URL with its token).
    const trigger = await ok<{ createTrigger: { trigger: { id: string; hookUrl: string }; secret: string } }>(dev, `mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { trigger { id hookUrl } secret } }`, {
      i: { pipelineId: p.pipelineId, type: 'WEBHOOK', name: `${p.slug}-hook`, config: { constraints: [{ path: '$.go', equals: 'yes' }] } },
    });
    p.triggerId = trigger.createTrigger.trigger.id;
    const sent = await fetch(trigger.createTrigger.trigger.hookUrl, { method: 'POST', headers: { authorization: `Bearer ${trigger.createTrigger.secret}`, 'content-type': 'application/json' }, body: '{"go":"no"}' });
    expect(sent.status).toBe(202);
    p.deliveryId = ((await sent.json()) as { deliveries: { id: string }[] }).deliveries[0].id;
  }

  beforeAll(async () => {
    // Memberships are remembered by the gateway for 10 minutes here: only a change it hears of can refresh them.
    platform = await startPlatform('projects', { MEMBERSHIP_CACHE_MS: '600000' });
    tokens.root = await platform.token({ sub: 'root', roles: ['ADMIN'] });
    A.id = await platform.createProject(A.slug, 'Team A');
    B.id = await platform.createProject(B.slug, 'Team B');
    await member('adam', A.id, ['ADMIN']);
    await member('dana', A.id, ['DEVELOPER']);
    await member('vera', A.id, ['VIEWER']);
    await member('bella', B.id, ['ADMIN']);
    await member('boris', B.id, ['DEVELOPER']);
    await populate(A, 'adam', 'dana');
    await populate(B, 'bella', 'boris');
  }, 240_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it("lets a developer of A create and run a pipeline in A, and refuses the same in B naming the project and the role", async () => {
    const input = (projectId: string) => ({ i: { projectId, name: `dana-${projectId.slice(0, 8)}`, stages: [{ refId: 'j', name: 'J', type: 'JUDGEMENT', config: { options: ['a'] } }] } });
    const inA = await ok<{ createPipeline: { id: string; project: { slug: string } } }>('dana', `mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id project { slug } } }`, input(A.id));
    expect(inA.createPipeline.project.slug).toBe('team-a');
    const run = await ok<{ runPipeline: { projectId: string } }>('dana', `mutation($p: ID!) { runPipeline(pipelineId: $p) { projectId } }`, { p: inA.createPipeline.id });
    expect(run.runPipeline.projectId).toBe(A.id);

    const message = forbidden(await call('dana', `mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, input(B.id)));
    expect(message).toContain(B.id);
    expect(message).toMatch(/DEVELOPER/);
    forbidden(await call('dana', `mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }`, { p: B.pipelineId }));
    const { pipelines } = await ok<{ pipelines: { totalCount: number } }>('bella', `query($p: ID) { pipelines(projectId: $p) { totalCount } }`, { p: B.id });
    expect(pipelines.totalCount).toBe(1);
  });

  it("never shows B's pipelines, runs, builds or environment resources to A's members, in lists, by id or through federated fields", async () => {
    // Lists of A hold A's things only; the lists of B are refused.
    const lists = `query($p: ID) {
      pipelines(projectId: $p) { edges { node { id } } }
      runs(projectId: $p) { edges { node { id } } }
      builds(projectId: $p) { edges { node { id } } }
      sourceRepositories(projectId: $p) { edges { node { id } } }
      deploymentTargets(projectId: $p) { edges { node { id } } }
      imageRegistries(projectId: $p) { edges { node { id } } }
      chartRepositories(projectId: $p) { edges { node { id } } }
      secrets(projectId: $p) { edges { node { id } } }
      buildTools(projectId: $p) { edges { node { id } } }
    }`;
    type Lists = Record<string, { edges: { node: { id: string } }[] }>;
    const ofA = JSON.stringify(await ok<Lists>('vera', lists, { p: A.id }));
    for (const id of [B.pipelineId, B.runId, B.buildId, ...Object.values(B.resources)]) expect(ofA).not.toContain(id);
    for (const id of [A.pipelineId, A.runId, A.buildId, ...Object.values(A.resources)]) expect(ofA).toContain(id);
    for (const list of ['pipelines', 'runs', 'builds', 'sourceRepositories', 'deploymentTargets', 'imageRegistries', 'chartRepositories', 'buildTools', 'secrets']) {
      const refused = await call('vera', `query($p: ID) { ${list}(projectId: $p) { totalCount } }`, { p: B.id });
      expect({ list, codes: refused.errors?.map((e) => e.extensions?.code) }).toEqual({ list, codes: ['FORBIDDEN'] });
      expect(refused.errors![0].message).toContain(B.id);
    }

    // Narrowed by a parent of B: nothing at all.
    const narrowed = await ok<{ runs: { totalCount: number }; builds: { totalCount: number } }>('vera', `query($p: ID!, $r: ID!) { runs(pipelineId: $p) { totalCount } builds(runId: $r) { totalCount } }`, { p: B.pipelineId, r: B.runId });
    expect(narrowed).toEqual({ runs: { totalCount: 0 }, builds: { totalCount: 0 } });

    // By id: FORBIDDEN, naming B.
    for (const [query, id] of [
      ['query($id: ID!) { pipeline(id: $id) { id } }', B.pipelineId],
      ['query($id: ID!) { run(id: $id) { id } }', B.runId],
      ['query($id: ID!) { build(id: $id) { id } }', B.buildId],
      ['query($id: ID!) { exportPipeline(id: $id) }', B.pipelineId],
      ['query($id: ID!) { project(id: $id) { id } }', B.id],
      ['query($id: ID!) { deploymentTarget(id: $id) { id } }', B.resources.DeploymentTarget],
      ['query($id: ID!) { sourceRepository(id: $id) { id } }', B.resources.SourceRepository],
    ] as const) {
      expect(forbidden(await call('vera', query, { id }))).toContain(B.id);
    }

    // Federated fields from A's side reach A's things only; projects() lists A alone.
    type Nodes = { edges: { node: { id: string; projectId: string } }[] };
    const fed = await ok<{ project: Record<string, Nodes>; projects: { edges: { node: { slug: string } }[] } }>(
      'vera',
      `query($a: ID!) {
        project(id: $a) {
          pipelines { edges { node { id projectId } } } runs { edges { node { id projectId } } } builds { edges { node { id projectId } } }
          deploymentTargets { edges { node { id projectId } } } sourceRepositories { edges { node { id projectId } } }
        }
        projects { edges { node { slug } } }
      }`,
      { a: A.id },
    );
    const fixtureOf = { pipelines: 'pipelineId', runs: 'runId', builds: 'buildId' } as const;
    for (const [field, nodes] of Object.entries(fed.project)) {
      expect({ field, projects: [...new Set(nodes.edges.map((e) => e.node.projectId))] }).toEqual({ field, projects: [A.id] });
      const ids = nodes.edges.map((e) => e.node.id);
      const mine = field in fixtureOf ? A[fixtureOf[field as keyof typeof fixtureOf]] : field === 'deploymentTargets' ? A.resources.DeploymentTarget : A.resources.SourceRepository;
      expect(ids).toContain(mine);
      for (const id of [B.pipelineId, B.runId, B.buildId, ...Object.values(B.resources)]) expect(ids).not.toContain(id);
    }
    expect(fed.projects.edges.map((e) => e.node.slug)).toEqual(['team-a']);
    const run = await ok<{ run: { pipeline: { id: string; project: { slug: string } } } }>('vera', `query($id: ID!) { run(id: $id) { pipeline { id project { slug } } } }`, { id: A.runId });
    expect(run.run.pipeline).toEqual({ id: A.pipelineId, project: { slug: 'team-a' } });

    // A platform ADMIN sees both.
    const all = await ok<{ projects: { edges: { node: { slug: string } }[] } }>('root', '{ projects(first: 50) { edges { node { slug } } } }');
    expect(all.projects.edges.map((e) => e.node.slug)).toEqual(expect.arrayContaining(['default', 'team-a', 'team-b']));
  });

  it("refuses a pipeline in A that names B's deployment target, with the field path, storing nothing", async () => {
    const before = (await ok<{ pipelines: { totalCount: number } }>('dana', `query($p: ID) { pipelines(projectId: $p) { totalCount } }`, { p: A.id })).pipelines.totalCount;
    const res = await call('dana', `mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, {
      i: {
        projectId: A.id,
        name: 'uses-b-target',
        stages: [{ refId: 'scale', name: 'Scale', type: 'SCALE', config: { targetId: B.resources.DeploymentTarget, namespace: 'default', kind: 'Deployment', name: 'web', replicas: 1 } }],
      },
    });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'stages[0].config.targetId' });
    expect(res.errors?.[0].message).toMatch(/another project/);
    const after = (await ok<{ pipelines: { totalCount: number } }>('dana', `query($p: ID) { pipelines(projectId: $p) { totalCount } }`, { p: A.id })).pipelines.totalCount;
    expect(after).toBe(before);
  });

  describe('a VIEWER of A', () => {
    interface TypeRef {
      kind: string;
      name: string | null;
      ofType: TypeRef | null;
    }
    interface InputField {
      name: string;
      type: TypeRef;
    }
    interface FullType {
      name: string;
      kind: string;
      enumValues: { name: string }[] | null;
      inputFields: InputField[] | null;
      fields: { name: string; args: InputField[]; type: TypeRef }[] | null;
    }
    const TYPE_REF = 'kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }';
    const named = (t: TypeRef): TypeRef => (t.ofType ? named(t.ofType) : t);
    const printType = (t: TypeRef): string => (t.kind === 'NON_NULL' ? `${printType(t.ofType!)}!` : t.kind === 'LIST' ? `[${printType(t.ofType!)}]` : t.name!);

    it('can call no mutation in A: every mutation field of the schema is FORBIDDEN', async () => {
      const schema = await ok<{ __schema: { mutationType: { name: string }; types: FullType[] } }>(
        'vera',
        `{ __schema { mutationType { name } types { name kind enumValues { name } inputFields { name type { ${TYPE_REF} } } fields { name type { ${TYPE_REF} } args { name type { ${TYPE_REF} } } } } } }`,
      );
      const types = new Map(schema.__schema.types.map((t) => [t.name, t]));
      const mutations = types.get(schema.__schema.mutationType.name)!.fields!;
      expect(mutations.length).toBeGreaterThan(30);

      // What a project-scoped argument names, by the thing a mutation acts on (its name after the verb).
      const ids: Record<string, string> = { Project: A.id, Pipeline: A.pipelineId, PipelineRevision: A.pipelineId, Stage: A.pipelineId, Run: A.runId, ApiToken: A.apiTokenId, Trigger: A.triggerId, TriggerDelivery: A.deliveryId, ...A.resources };
      const idFor = (mutation: string) => {
        const noun = mutation.replace(/^(create|update|delete|test|restore|revoke|remove|set|add|move|import|cancel|restart|run|rotate|redeliver)/, '');
        return ids[noun] ?? ids[Object.keys(ids).find((k) => noun.startsWith(k)) ?? ''] ?? A.id;
      };
      const byName: Record<string, unknown> = {
        projectId: A.id,
        pipelineId: A.pipelineId,
        runId: A.runId,
        refId: 'judge',
        revision: 1,
        expectedRevision: 1,
        subject: 'someone',
        roles: ['VIEWER'],
        decision: 'CONTINUE',
        yaml: 'name: imported\nstages: []\n',
        slug: 'viewer-made',
        force: false,
        index: 0,
      };
      const value = (name: string, t: TypeRef, mutation: string, depth = 0): unknown => {
        if (t.kind === 'NON_NULL') return value(name, t.ofType!, mutation, depth);
        if (t.kind === 'LIST') return byName[name] ?? [];
        if (name in byName) return byName[name];
        if (name === 'id') return idFor(mutation);
        const type = types.get(t.name!)!;
        if (type.kind === 'ENUM') return type.enumValues![0].name;
        if (type.kind === 'INPUT_OBJECT') {
          const out: Record<string, unknown> = {};
          for (const f of type.inputFields!) {
            if (f.type.kind === 'NON_NULL' || f.name === 'projectId') out[f.name] = value(f.name, f.type, mutation, depth + 1);
          }
          if (type.name === 'StageInput') Object.assign(out, { refId: 'extra', name: 'Extra', type: 'JUDGEMENT', config: { options: ['a'] } });
          return out;
        }
        switch (t.name) {
          case 'Int':
            return 1;
          case 'Boolean':
            return false;
          case 'JSON':
            return {};
          case 'ID':
            return A.id;
          default:
            return `viewer-${name}`;
        }
      };

      const results: Record<string, string | undefined> = {};
      for (const m of mutations) {
        const args = m.args.filter((a) => a.type.kind === 'NON_NULL' || a.name === 'projectId');
        const vars = Object.fromEntries(args.map((a) => [a.name, value(a.name, a.type, m.name)]));
        const decl = args.length ? `(${args.map((a) => `$${a.name}: ${printType(a.type)}`).join(', ')})` : '';
        const use = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
        const returns = types.get(named(m.type).name!)!;
        const selection = ['OBJECT', 'INTERFACE', 'UNION'].includes(returns.kind) ? ' { __typename }' : '';
        const res = await call('vera', `mutation${decl} { ${m.name}${use}${selection} }`, vars);
        results[m.name] = res.errors?.[0]?.extensions?.code ?? 'SUCCEEDED';
      }
      const notForbidden = Object.entries(results).filter(([, code]) => code !== 'FORBIDDEN');
      expect(notForbidden).toEqual([]);

      // And nothing moved: the pipeline is still at revision 1, the run still waits.
      const state = await ok<{ pipeline: { revision: number }; run: { status: string } }>('vera', `query($p: ID!, $r: ID!) { pipeline(id: $p) { revision } run(id: $r) { status } }`, { p: A.pipelineId, r: A.runId });
      expect(state).toEqual({ pipeline: { revision: 1 }, run: { status: 'WAITING' } });
    });
  });

  it("keeps run subscriptions to the run's project: a member of B who subscribes first is refused, and A's members still get every state", async () => {
    const connect = (who: string) => createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${tokens[who]}` }, retryAttempts: 0 });
    const clients: Client[] = [];
    try {
      // B's developer first: one FORBIDDEN error, then the subscription ends.
      const outsider = connect('boris');
      clients.push(outsider);
      const seen: unknown[] = [];
      const ended = await new Promise<string>((resolve, reject) => {
        outsider.subscribe<{ runUpdated: unknown }>(
          { query: 'subscription($r: ID!) { runUpdated(runId: $r) { status sequence } }', variables: { r: A.runId } },
          { next: (v) => seen.push(v), error: reject, complete: () => resolve('complete') },
        );
      });
      expect(ended).toBe('complete');
      expect(seen).toHaveLength(1);
      expect((seen[0] as GraphQLResponse<unknown>).errors?.[0].extensions?.code).toBe('FORBIDDEN');

      // The same for every run of A's pipeline: refused once, then ended.
      const pipelineSeen: unknown[] = [];
      await new Promise<void>((resolve, reject) => {
        outsider.subscribe({ query: 'subscription($p: ID!) { runsUpdated(pipelineId: $p) { id } }', variables: { p: A.pipelineId } }, { next: (v) => pipelineSeen.push(v), error: reject, complete: resolve });
      });
      expect(pipelineSeen.map((r) => (r as GraphQLResponse<unknown>).errors?.[0].extensions?.code)).toEqual(['FORBIDDEN']);

      // A's viewer subscribes after that, and hears every state up to the end the judgement brings.
      const insider = connect('vera');
      clients.push(insider);
      const insiderStates: string[] = [];
      const done = new Promise<void>((resolve, reject) => {
        insider.subscribe<{ runUpdated: { status: string } }>(
          { query: 'subscription($r: ID!) { runUpdated(runId: $r) { status sequence } }', variables: { r: A.runId } },
          {
            next: (v) => {
              insiderStates.push(v.data!.runUpdated.status);
              if (v.data!.runUpdated.status === 'WAITING' && insiderStates.length === 1) {
                void ok('dana', `mutation($r: ID!) { judge(runId: $r, refId: "judge", decision: CONTINUE, value: "ship") { status } }`, { r: A.runId }).catch(reject);
              }
              if (['SUCCEEDED', 'FAILED'].includes(v.data!.runUpdated.status)) resolve();
            },
            error: reject,
            complete: () => undefined,
          },
        );
      });
      await done;
      expect(insiderStates[0]).toBe('WAITING');
      expect(insiderStates[insiderStates.length - 1]).toBe('SUCCEEDED');
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });

  it('refuses a projectId that names no project, or is no id at all, even to a platform ADMIN', async () => {
    const nowhere = '6f1c0b2e-0000-4000-8000-00000000abcd';
    const created = await call('root', `mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { projectId: nowhere, name: 'orphan', stages: [] } });
    expect(created.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.projectId' });
    expect(created.errors?.[0].message).toMatch(/names no project/);
    const target = await call('root', `mutation($i: CreateDeploymentTargetInput!) { createDeploymentTarget(input: $i) { id } }`, { i: { projectId: nowhere, name: 'orphan', apiServerUrl: 'https://127.0.0.1:6443', token: 't' } });
    expect(target.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.projectId' });
    const listed = await call('root', '{ pipelines(projectId: "not-an-id") { totalCount } }');
    expect(listed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'projectId' });
  });

  it('gives a signed-in person who is a member of nothing no project at all', async () => {
    tokens.nobody = await platform.token({ sub: 'nobody', roles: [] });
    const mine = await ok<{ projects: { totalCount: number }; viewer: { projects: unknown[] } }>('nobody', '{ projects { totalCount } viewer { projects { roles } } }');
    expect(mine).toEqual({ projects: { totalCount: 0 }, viewer: { projects: [] } });
    expect(forbidden(await call('nobody', '{ pipelines { totalCount } }'))).toMatch(/project "default".*not a member/);
  });

  it("refuses to delete a project while any service holds something of it, saying what", async () => {
    const res = await call('bella', `mutation($id: ID!) { deleteProject(id: $id) }`, { id: B.id });
    expect(res.errors?.[0].extensions?.code).toBe('CONFLICT');
    for (const held of ['1 pipelines', '1 runs', '1 builds', '1 deploymentTargets', '1 triggers']) expect(res.errors![0].message).toContain(held);
    forbidden(await call('adam', `mutation($id: ID!) { deleteProject(id: $id, force: true) }`, { id: B.id }));
  });

  it('deleting a project with force takes its resources and pipelines with it and cancels its runs', async () => {
    const C = { id: await platform.createProject('team-c'), slug: 'team-c' } as Fixture;
    await member('cora', C.id, ['ADMIN', 'DEVELOPER']);
    await populate(C, 'cora', 'cora');
    expect((await ok<{ deleteProject: string }>('root', `mutation($id: ID!) { deleteProject(id: $id, force: true) }`, { id: C.id })).deleteProject).toBe(C.id);
    const gone = await waitFor('the services to clear what team-c held', async () => {
      const res = await ok<{ run: { status: string; reason: string | null }; pipeline: unknown; deploymentTarget: unknown; sourceRepository: unknown; trigger: unknown }>(
        'root',
        `query($r: ID!, $p: ID!, $t: ID!, $s: ID!, $tr: ID!) { run(id: $r) { status reason } pipeline(id: $p) { id } deploymentTarget(id: $t) { id } sourceRepository(id: $s) { id } trigger(id: $tr) { id } }`,
        { r: C.runId, p: C.pipelineId, t: C.resources.DeploymentTarget, s: C.resources.SourceRepository, tr: C.triggerId },
      );
      return res.run.status === 'CANCELED' && !res.pipeline && !res.deploymentTarget && !res.sourceRepository && !res.trigger ? res : undefined;
    });
    expect(gone.run.reason).toMatch(/project "team-c" was deleted/);
  });

  describe('memberships the gateway remembers', () => {
    const rolesIn = async (who: string, projectId: string) => {
      const { viewer } = await ok<{ viewer: { projects: { project: { id: string }; roles: string[] }[] } }>(who, '{ viewer { projects { project { id } roles } } }');
      return viewer.projects.find((m) => m.project.id === projectId)?.roles ?? [];
    };

    it('a change made through the gateway holds from the very next request', async () => {
      await member('mia', A.id, ['DEVELOPER']);
      expect(await rolesIn('mia', A.id)).toEqual(['DEVELOPER']);
      await ok('adam', `mutation($p: ID!) { setProjectMember(projectId: $p, subject: "mia", roles: [VIEWER]) { subject } }`, { p: A.id });
      expect(await rolesIn('mia', A.id)).toEqual(['VIEWER']);
      expect(forbidden(await call('mia', `mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }`, { p: A.pipelineId }))).toMatch(/DEVELOPER/);
      await ok('adam', `mutation($p: ID!) { removeProjectMember(projectId: $p, subject: "mia") }`, { p: A.id });
      expect(await rolesIn('mia', A.id)).toEqual([]);
    });

    it('a mutation with a fragment used twice (sent on to the projects service with it) holds from the very next request too', async () => {
      await member('mona', A.id, ['VIEWER']);
      expect(await rolesIn('mona', A.id)).toEqual(['VIEWER']);
      // The planner keeps a fragment used twice in what it sends the projects service: the gateway
      // goes by the client's operation type, not by that text.
      await ok(
        'adam',
        `fragment M on ProjectMember { subject roles } mutation($p: ID!) { a: setProjectMember(projectId: $p, subject: "mona", roles: [DEVELOPER]) { ...M } b: setProjectMember(projectId: $p, subject: "mona", roles: [DEVELOPER]) { ...M } }`,
        { p: A.id },
      );
      expect(await rolesIn('mona', A.id)).toEqual(['DEVELOPER']);
    });

    it('a change made elsewhere (at the projects service itself, as through another gateway instance) holds once its event arrives', async () => {
      await member('milo', A.id, ['VIEWER']);
      expect(await rolesIn('milo', A.id)).toEqual(['VIEWER']);
      const direct = await gql(`${platform.serviceUrls.projects}/graphql`, `mutation($p: ID!) { setProjectMember(projectId: $p, subject: "milo", roles: [DEVELOPER]) { subject } }`, {
        variables: { p: A.id },
        sign: { identity: { sub: 'root', roles: ['ADMIN'], projects: [], via: 'oidc' }, secret: platform.internalSecret, audience: 'projects' },
      });
      expect(direct.errors).toBeUndefined();
      const roles = await waitFor("the gateway to hear of milo's new roles", async () => {
        const now = await rolesIn('milo', A.id);
        return now.includes('DEVELOPER') ? now : undefined;
      });
      expect(roles).toEqual(['DEVELOPER']);
    });
  });

  describe('API tokens', () => {
    it('work for their project and roles only, show when they were used, and fail at once when revoked', async () => {
      const created = await ok<{ createApiToken: { token: string; apiToken: { id: string; roles: string[]; lastUsedAt: string | null } } }>(
        'adam',
        `mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token apiToken { id roles lastUsedAt } } }`,
        { i: { projectId: A.id, name: 'ci', roles: ['DEVELOPER'], expiresInDays: 30 } },
      );
      const { token, apiToken } = created.createApiToken;
      expect(token).toMatch(/^pwt_/);
      expect(apiToken.lastUsedAt).toBeNull();
      tokens.ci = token;

      const who = await ok<{ viewer: { via: string; roles: string[]; projects: { project: { slug: string }; roles: string[] }[] } }>('ci', '{ viewer { via roles projects { project { slug } roles } } }');
      expect(who.viewer).toEqual({ via: 'api-token', roles: [], projects: [{ project: { slug: 'team-a' }, roles: ['DEVELOPER'] }] });
      const pipe = await ok<{ createPipeline: { createdBy: string } }>('ci', `mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { createdBy } }`, {
        i: { projectId: A.id, name: 'from-ci', stages: [] },
      });
      expect(pipe.createPipeline.createdBy).toBe(`api-token:${apiToken.id}`);
      forbidden(await call('ci', `mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { projectId: B.id, name: 'from-ci', stages: [] } }));
      forbidden(await call('ci', `mutation($i: CreateDeploymentTargetInput!) { createDeploymentTarget(input: $i) { id } }`, { i: { projectId: A.id, name: 'ci-target', apiServerUrl: 'https://127.0.0.1:6443', token: 't' } }));
      forbidden(await call('ci', `query($p: ID) { pipelines(projectId: $p) { totalCount } }`, { p: DEFAULT_PROJECT_ID }));

      const listed = await ok<{ project: { apiTokens: { edges: { node: { id: string; lastUsedAt: string | null } }[] } } }>('adam', `query($a: ID!) { project(id: $a) { apiTokens { edges { node { id lastUsedAt } } } } }`, { a: A.id });
      expect(listed.project.apiTokens.edges.find((e) => e.node.id === apiToken.id)?.node.lastUsedAt).toEqual(expect.any(String));

      // An open WebSocket of the token works until the revocation, and is closed by it.
      const socket = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined });
      const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('closed', (e) => resolve(e as { code: number; reason: string })));
      const overSocket = await new Promise<{ data?: { viewer: { via: string } } }>((resolve, reject) => {
        let value: { data?: { viewer: { via: string } } } = {};
        socket.subscribe({ query: '{ viewer { via } }' }, { next: (v) => (value = v as typeof value), error: reject, complete: () => resolve(value) });
      });
      expect(overSocket.data?.viewer.via).toBe('api-token');

      await ok('adam', `mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: apiToken.id });
      expect(await closed).toMatchObject({ code: 4401, reason: expect.stringMatching(/revoked/) });
      await socket.dispose();
      const after = await call('ci', '{ viewer { sub } }');
      expect(after.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(after.errors?.[0].message).toMatch(/revoked/);
    });

    it('cannot manage members or the project, nor get roles their creator does not hold; nobody makes himself APPROVAL_ADMIN', async () => {
      const created = await ok<{ createApiToken: { token: string } }>('adam', `mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }`, { i: { projectId: A.id, name: 'admin-bot', roles: ['ADMIN'] } });
      tokens.adminBot = created.createApiToken.token;
      const refusals = [
        await call('adminBot', `mutation($p: ID!) { setProjectMember(projectId: $p, subject: "mallory", roles: [ADMIN]) { subject } }`, { p: A.id }),
        await call('adminBot', `mutation($p: ID!) { removeProjectMember(projectId: $p, subject: "dana") }`, { p: A.id }),
        await call('adminBot', `mutation($p: ID!) { updateProject(id: $p, input: { name: "Owned" }) { name } }`, { p: A.id }),
        await call('adminBot', `mutation($p: ID!) { deleteProject(id: $p, force: true) }`, { p: A.id }),
      ];
      for (const r of refusals) expect(forbidden(r)).toMatch(/an API token cannot/);
      // What it may do as ADMIN of A, it does: environment settings.
      await ok('adminBot', `mutation($i: CreateDeploymentTargetInput!) { createDeploymentTarget(input: $i) { id } }`, { i: { projectId: A.id, name: 'bot-target', apiServerUrl: 'https://127.0.0.1:6443', token: 't' } });

      // A project ADMIN without APPROVAL_ADMIN cannot hand it to a token, nor take it himself; the platform ADMIN neither.
      const approvingToken = await call('adam', `mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }`, { i: { projectId: A.id, name: 'approver-bot', roles: ['APPROVAL_ADMIN'] } });
      expect(forbidden(approvingToken)).toMatch(/cannot give it APPROVAL_ADMIN/);
      expect(forbidden(await call('root', `mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }`, { i: { projectId: A.id, name: 'root-bot', roles: ['APPROVAL_ADMIN'] } }))).toMatch(/APPROVAL_ADMIN/);
      expect(forbidden(await call('adam', `mutation($p: ID!) { setProjectMember(projectId: $p, subject: "adam", roles: [ADMIN, APPROVAL_ADMIN]) { subject } }`, { p: A.id }))).toMatch(/cannot make yourself APPROVAL_ADMIN/);
      expect(forbidden(await call('root', `mutation($p: ID!) { setProjectMember(projectId: $p, subject: "root", roles: [APPROVAL_ADMIN]) { subject } }`, { p: A.id }))).toMatch(/cannot make yourself APPROVAL_ADMIN/);
    });

    it('are UNAUTHENTICATED when unknown', async () => {
      const res = await gql(platform.gatewayUrl, '{ viewer { sub } }', { token: 'pwt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
      expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    });
  });
});
