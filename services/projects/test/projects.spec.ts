import { DEFAULT_PROJECT_ID, type Identity } from '@pipewright/contracts';
import { MessageBus, type BusLogger, type Consumer } from '@pipewright/messaging';
import { connectTestNats, freePort, gql, serviceQuery, startPlatform, startProcess, waitFor, type GraphQLResponse, type TestPlatform } from '@pipewright/testing';
import { createHash, randomBytes } from 'node:crypto';
import type { NatsConnection } from 'nats';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;

type Page<T> = { totalCount: number; edges: { cursor: string; node: T }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
type Member = { subject: string; roles: string[]; addedBy: string };
type Token = { id: string; projectId: string; name: string; roles: string[]; createdBy: string; expiresAt: string | null; lastUsedAt: string | null; revokedAt: string | null };
type ProjectEvent = { id: string; slug: string; change: string; by: string };
type MemberEvent = { projectId: string; subject: string; roles: string[]; by: string };
type TokenEvent = { id: string; projectId: string; change: string; by: string };

describe('projects service through the gateway', () => {
  let platform: TestPlatform;
  let admin: string;
  let nc: NatsConnection;
  let bus: MessageBus;
  const projectEvents: ProjectEvent[] = [];
  const memberEvents: MemberEvent[] = [];
  const tokenEvents: TokenEvent[] = [];
  const consumers: Consumer[] = [];

  const call = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token = admin): Promise<GraphQLResponse<T>> =>
    gql<T>(platform.gatewayUrl, query, { token, variables });
  const ok = async <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token = admin): Promise<T> => {
    const res = await call<T>(query, variables, token);
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data!;
  };
  const error = async (query: string, variables?: Record<string, unknown>, token = admin) => {
    const res = await call(query, variables, token);
    expect(res.errors?.length).toBeGreaterThan(0);
    return res.errors![0];
  };
  /** A token for `sub` with no platform role and no membership yet. */
  const person = (sub: string) => platform.token({ sub, roles: [] });

  const CREATE = `mutation($i: CreateProjectInput!) { createProject(input: $i) { id slug name description createdBy viewerRoles } }`;
  const createProject = async (slug = unique('proj'), extra: Record<string, unknown> = {}) =>
    (await ok<{ createProject: { id: string; slug: string } }>(CREATE, { i: { name: `Project ${slug}`, slug, ...extra } })).createProject;
  const SET_MEMBER = `mutation($p: ID!, $s: String!, $r: [ProjectRole!]!) { setProjectMember(projectId: $p, subject: $s, roles: $r) { subject roles addedBy } }`;
  const REMOVE_MEMBER = `mutation($p: ID!, $s: String!) { removeProjectMember(projectId: $p, subject: $s) }`;
  const members = async (projectId: string, token = admin) =>
    (await ok<{ project: { members: Page<Member> } }>(`query($id: ID!) { project(id: $id) { members(first: 100) { totalCount edges { cursor node { subject roles addedBy } } pageInfo { hasNextPage endCursor } } } }`, { id: projectId }, token)).project.members;
  const CREATE_TOKEN = `mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token apiToken { id projectId name roles createdBy expiresAt lastUsedAt revokedAt } } }`;
  const tokens = async (projectId: string, includeRevoked = false) =>
    (
      await ok<{ project: { apiTokens: Page<Token> } }>(
        `query($id: ID!, $r: Boolean!) { project(id: $id) { apiTokens(includeRevoked: $r) { totalCount edges { cursor node { id projectId name roles createdBy expiresAt lastUsedAt revokedAt } } pageInfo { hasNextPage endCursor } } } }`,
        { id: projectId, r: includeRevoked },
      )
    ).project.apiTokens;
  const createPipeline = async (projectId: string) =>
    (
      await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, {
        i: { projectId, name: unique('pipe'), stages: [{ refId: 'wait', name: 'Wait', type: 'JUDGEMENT', config: {} }] },
      })
    ).createPipeline.id;
  /** Calls the projects subgraph directly, signed as the gateway would sign `identity`. */
  const subgraph = async (identity: Partial<Identity> & { sub: string }, query: string, variables?: Record<string, unknown>) => {
    const { status: _status, ...res } = await gql(`${platform.serviceUrls.projects}/graphql`, query, {
      variables,
      sign: { identity: { roles: [], projects: [], via: 'oidc', ...identity }, secret: platform.internalSecret, audience: 'projects' },
    });
    return res as Omit<GraphQLResponse, 'status'>;
  };

  beforeAll(async () => {
    platform = await startPlatform('projects', {}, { projects: { PROJECT_MEMBERS_BOOTSTRAP: 'boot-dev=DEVELOPER, boot-ops=DEVELOPER+APPROVAL_ADMIN' } });
    admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    nc = await connectTestNats('projects-spec');
    bus = new MessageBus(nc, platform.prefix, 'projects-spec', quiet);
    consumers.push(
      await bus.consume(['evt.projects.project.changed.v1'], { durable: 'spec-projects', from: 'all' }, async (e) => void projectEvents.push(e)),
      await bus.consume(['evt.projects.member.changed.v1'], { durable: 'spec-members', from: 'all' }, async (e) => void memberEvents.push(e)),
      await bus.consume(['evt.projects.api-token.changed.v1'], { durable: 'spec-tokens', from: 'all' }, async (e) => void tokenEvents.push(e)),
    );
  });
  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await nc?.close();
    await platform?.stop();
  });

  describe('the default project and the bootstrap members', () => {
    it('exists from the first start with the members PROJECT_MEMBERS_BOOTSTRAP names, and a restart never overwrites a membership', async () => {
      const { project } = await ok<{ project: { id: string; slug: string; name: string; createdBy: string } }>(`{ project(slug: "default") { id slug name createdBy } }`);
      expect(project).toEqual({ id: DEFAULT_PROJECT_ID, slug: 'default', name: 'Default', createdBy: 'system' });
      const before = (await members(DEFAULT_PROJECT_ID)).edges.map((e) => e.node);
      expect(before).toEqual(
        expect.arrayContaining([
          { subject: 'boot-dev', roles: ['DEVELOPER'], addedBy: 'system' },
          { subject: 'boot-ops', roles: ['DEVELOPER', 'APPROVAL_ADMIN'], addedBy: 'system' },
        ]),
      );

      await ok(SET_MEMBER, { p: DEFAULT_PROJECT_ID, s: 'boot-dev', r: ['VIEWER'] });
      await platform.restart('projects');
      const after = (await members(DEFAULT_PROJECT_ID)).edges.map((e) => e.node);
      expect(after.find((m) => m.subject === 'boot-dev')).toEqual({ subject: 'boot-dev', roles: ['VIEWER'], addedBy: 'system' });
      expect(after.filter((m) => m.subject.startsWith('boot-'))).toHaveLength(2);
    });

    it('refuses to boot with a bad PROJECT_MEMBERS_BOOTSTRAP, naming the variable', async () => {
      const proc = startProcess('services/projects/dist/main.js', { ...platform.serviceEnvs.projects, PORT: String(await freePort()), PROJECT_MEMBERS_BOOTSTRAP: 'dev=OWNER' });
      expect(await proc.exited).toBe(1);
      expect(proc.output()).toMatch(/PROJECT_MEMBERS_BOOTSTRAP entry \\?"dev=OWNER\\?": role \\?"OWNER\\?" must be VIEWER, DEVELOPER, ADMIN or APPROVAL_ADMIN/);
    });

    it('the default project can never be deleted, not even forced', async () => {
      const err = await error(`mutation { deleteProject(id: "${DEFAULT_PROJECT_ID}", force: true) }`);
      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toMatch(/"default" .*can never be deleted/);
    });
  });

  describe('create, read, list, update, delete', () => {
    it('a platform ADMIN creates a project and becomes its ADMIN; it is read by id and slug, updated and deleted, with events', async () => {
      const slug = unique('payments');
      const created = (await ok<{ createProject: Record<string, unknown> }>(CREATE, { i: { name: ' Payments ', slug, description: 'Money' } })).createProject;
      expect(created).toMatchObject({ slug, name: 'Payments', description: 'Money', createdBy: 'ada' });
      const id = created.id as string;
      expect((await members(id)).edges.map((e) => e.node)).toEqual([{ subject: 'ada', roles: ['ADMIN'], addedBy: 'ada' }]);

      const byId = await ok<{ project: { slug: string; viewerRoles: string[] } }>(`query($id: ID!) { project(id: $id) { slug viewerRoles } }`, { id });
      expect(byId.project).toEqual({ slug, viewerRoles: ['ADMIN'] });
      expect((await ok<{ project: { id: string } }>(`query($s: String!) { project(slug: $s) { id } }`, { s: slug })).project.id).toBe(id);
      expect((await ok<{ project: null }>(`{ project(slug: "no-such-project") { id } }`)).project).toBeNull();
      expect((await ok<{ project: null }>(`{ project(id: "00000000-0000-4000-8000-00000000abcd") { id } }`)).project).toBeNull();

      // A project ADMIN who is not a platform ADMIN may change it.
      const patSub = unique('pat');
      const pat = await person(patSub);
      await ok(SET_MEMBER, { p: id, s: patSub, r: ['ADMIN'] });
      const updated = (await ok<{ updateProject: { name: string; description: string | null; updatedBy: string } }>(
        `mutation($id: ID!) { updateProject(id: $id, input: { name: "Payments EU" }) { name description updatedBy } }`,
        { id },
        pat,
      )).updateProject;
      expect(updated).toEqual({ name: 'Payments EU', description: 'Money', updatedBy: patSub });
      const cleared = (await ok<{ updateProject: { name: string; description: string | null } }>(`mutation($id: ID!) { updateProject(id: $id, input: { description: null }) { name description } }`, { id }, pat)).updateProject;
      expect(cleared).toEqual({ name: 'Payments EU', description: null });
      const emptyName = await error(`mutation($id: ID!) { updateProject(id: $id, input: { name: "  " }) { id } }`, { id }, pat);
      expect(emptyName.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });

      expect((await ok<{ deleteProject: string }>(`mutation($id: ID!) { deleteProject(id: $id) }`, { id }, pat)).deleteProject).toBe(id);
      expect((await ok<{ project: null }>(`query($id: ID!) { project(id: $id) { id } }`, { id })).project).toBeNull();
      expect(await serviceQuery(platform, 'projects', `SELECT subject FROM project_members WHERE project_id = $1`, [id])).toEqual([]);

      await waitFor('the deleted event', () => projectEvents.some((e) => e.id === id && e.change === 'deleted'));
      expect(projectEvents.filter((e) => e.id === id).map((e) => [e.change, e.by])).toEqual([
        ['created', 'ada'],
        ['updated', patSub],
        ['updated', patSub],
        ['deleted', patSub],
      ]);
      await waitFor('member events of the deleted project', () => memberEvents.some((e) => e.projectId === id && e.subject === patSub && e.roles.length === 0));
    });

    it('slug errors name input.slug: a bad slug is BAD_USER_INPUT, a taken slug CONFLICT; only a platform ADMIN may create', async () => {
      const bad = await error(CREATE, { i: { name: 'Bad', slug: 'Not A Slug' } });
      expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.slug' });
      expect(bad.message).toMatch(/^input\.slug must be 1-63 lower-case letters.*\(got "Not A Slug"\)/);
      const missingName = await error(CREATE, { i: { name: '', slug: unique('ok') } });
      expect(missingName.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });

      const { slug } = await createProject();
      const taken = await error(CREATE, { i: { name: 'Again', slug } });
      expect(taken.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.slug' });
      expect(taken.message).toContain(`slug "${slug}" already exists`);

      const developer = await platform.token({ sub: unique('dev'), roles: ['DEVELOPER'] });
      const refused = await error(CREATE, { i: { name: 'Mine', slug: unique('mine') } }, developer);
      expect(refused.extensions?.code).toBe('FORBIDDEN');
      expect((await serviceQuery(platform, 'projects', `SELECT count(*)::int AS n FROM projects WHERE slug LIKE 'mine-%'`))[0]).toEqual({ n: 0 });
    });

    it('deleteProject is refused while a service holds something of the project, unless forced', async () => {
      const { id, slug } = await createProject(unique('busy'));
      const pipelineId = await createPipeline(id);
      const refused = await error(`mutation($id: ID!) { deleteProject(id: $id) }`, { id });
      expect(refused.extensions?.code).toBe('CONFLICT');
      expect(refused.message).toMatch(new RegExp(`project "${slug}" still holds 1 pipelines.*force: true`));
      expect((await ok<{ project: { id: string } }>(`query($id: ID!) { project(id: $id) { id } }`, { id })).project.id).toBe(id);

      // Once it is empty, it can go.
      await ok(`mutation($id: ID!) { deletePipeline(id: $id) }`, { id: pipelineId });
      expect((await ok<{ deleteProject: string }>(`mutation($id: ID!) { deleteProject(id: $id) }`, { id })).deleteProject).toBe(id);

      // force deletes a project that still holds something.
      const other = await createProject(unique('forced'));
      await createPipeline(other.id);
      expect((await ok<{ deleteProject: string }>(`mutation($id: ID!) { deleteProject(id: $id, force: true) }`, { id: other.id })).deleteProject).toBe(other.id);
      expect((await ok<{ project: null }>(`query($id: ID!) { project(id: $id) { id } }`, { id: other.id })).project).toBeNull();
    });

    it('deleteProject is UNAVAILABLE while a service cannot say what it holds, unless forced', async () => {
      const { id } = await createProject(unique('quiet'));
      await platform.processes.pipelines.stop();
      try {
        const err = await error(`mutation($id: ID!) { deleteProject(id: $id) }`, { id });
        expect(err.extensions?.code).toBe('SERVICE_UNAVAILABLE');
        expect(err.message).toMatch(/the pipelines service did not answer.*force: true/);
        expect((await ok<{ project: { id: string } }>(`query($id: ID!) { project(id: $id) { id } }`, { id })).project.id).toBe(id);
        expect((await ok<{ deleteProject: string }>(`mutation($id: ID!) { deleteProject(id: $id, force: true) }`, { id })).deleteProject).toBe(id);
      } finally {
        await platform.restart('pipelines');
      }
    });
  });

  describe('access', () => {
    it('projects() lists only the caller’s projects, by slug and in pages; a platform ADMIN sees every project', async () => {
      const tag = randomBytes(3).toString('hex');
      const a = await createProject(`a-${tag}`);
      const b = await createProject(`b-${tag}`);
      const c = await createProject(`c-${tag}`);
      const sub = unique('lister');
      const lister = await person(sub);
      await platform.setMember(a.id, sub, ['VIEWER']);
      await platform.setMember(c.id, sub, ['DEVELOPER']);

      const LIST = `query($s: String, $f: Int, $a: String) { projects(search: $s, first: $f, after: $a) { totalCount edges { cursor node { slug viewerRoles } } pageInfo { hasNextPage endCursor } } }`;
      const mine = (await ok<{ projects: Page<{ slug: string; viewerRoles: string[] }> }>(LIST, { s: tag }, lister)).projects;
      expect(mine.edges.map((e) => e.node)).toEqual([
        { slug: a.slug, viewerRoles: ['VIEWER'] },
        { slug: c.slug, viewerRoles: ['DEVELOPER'] },
      ]);
      expect(mine.totalCount).toBe(2);
      const first = (await ok<{ projects: Page<{ slug: string }> }>(LIST, { s: tag, f: 1 }, lister)).projects;
      expect(first.edges.map((e) => e.node.slug)).toEqual([a.slug]);
      expect(first.pageInfo.hasNextPage).toBe(true);
      const second = (await ok<{ projects: Page<{ slug: string }> }>(LIST, { s: tag, f: 1, a: first.pageInfo.endCursor }, lister)).projects;
      expect(second.edges.map((e) => e.node.slug)).toEqual([c.slug]);
      expect(second.pageInfo.hasNextPage).toBe(false);

      const all = (await ok<{ projects: Page<{ slug: string }> }>(LIST, { s: tag })).projects;
      expect(all.edges.map((e) => e.node.slug)).toEqual([a.slug, b.slug, c.slug]);
      const nobody = (await ok<{ projects: Page<{ slug: string }> }>(LIST, {}, await person(unique('nobody')))).projects;
      expect(nobody).toMatchObject({ totalCount: 0, edges: [] });
    });

    it('a non-member is FORBIDDEN naming the project and the role; a VIEWER reads but changes nothing', async () => {
      const { id, slug } = await createProject(unique('private'));
      const stranger = await person(unique('stranger'));
      const seen = await error(`query($id: ID!) { project(id: $id) { id } }`, { id }, stranger);
      expect(seen.extensions?.code).toBe('FORBIDDEN');
      expect(seen.message).toMatch(new RegExp(`VIEWER or DEVELOPER or ADMIN or APPROVAL_ADMIN in project "${slug}" \\(${id}\\).*not a member`));
      const bySlug = await error(`query($s: String!) { project(slug: $s) { id } }`, { s: slug }, stranger);
      expect(bySlug.extensions?.code).toBe('FORBIDDEN');
      const changed = await error(`mutation($id: ID!) { updateProject(id: $id, input: { name: "mine" }) { id } }`, { id }, stranger);
      expect(changed.message).toMatch(new RegExp(`you need ADMIN in project "${slug}"`));

      const viewerSub = unique('viewer');
      const viewer = await person(viewerSub);
      await platform.setMember(id, viewerSub, ['VIEWER']);
      expect((await members(id, viewer)).totalCount).toBe(2);
      const forbidden: [string, Record<string, unknown>][] = [
        [`mutation($id: ID!) { updateProject(id: $id, input: { name: "x" }) { id } }`, { id }],
        [`mutation($id: ID!) { deleteProject(id: $id, force: true) }`, { id }],
        [SET_MEMBER, { p: id, s: viewerSub, r: ['ADMIN'] }],
        [REMOVE_MEMBER, { p: id, s: 'ada' }],
        [CREATE_TOKEN, { i: { projectId: id, name: 'ci', roles: ['DEVELOPER'] } }],
        [`query($id: ID!) { project(id: $id) { apiTokens { totalCount } } }`, { id }],
      ];
      for (const [query, variables] of forbidden) {
        const err = await error(query, variables, viewer);
        expect(err.extensions?.code).toBe('FORBIDDEN');
        expect(err.message).toMatch(new RegExp(`you need ADMIN in project "${slug}" .*you have VIEWER there`));
      }
      expect((await ok<{ project: { name: string } }>(`query($id: ID!) { project(id: $id) { name } }`, { id })).project.name).toBe(`Project ${slug}`);
    });

    it('a Project reference resolved through federation checks read access too', async () => {
      const { id, slug } = await createProject(unique('fed'));
      const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Project { slug } } }`;
      const representations = [{ __typename: 'Project', id }];
      const member = await subgraph({ sub: 'm', projects: [{ projectId: id, slug, roles: ['VIEWER'] }] }, query, { r: representations });
      expect(member.data).toEqual({ _entities: [{ slug }] });
      const outsider = await subgraph({ sub: 'o' }, query, { r: representations });
      expect(outsider.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(outsider.errors?.[0].message).toContain(`project "${slug}"`);
      expect(JSON.stringify(outsider.data)).not.toContain(slug);
    });
  });

  describe('members', () => {
    it('adds, changes, lists and removes members, with events; roles must not be empty', async () => {
      const { id } = await createProject(unique('team'));
      const sub = unique('carol');
      expect((await ok<{ setProjectMember: Member }>(SET_MEMBER, { p: id, s: sub, r: ['APPROVAL_ADMIN', 'DEVELOPER', 'DEVELOPER'] })).setProjectMember).toEqual({
        subject: sub,
        roles: ['DEVELOPER', 'APPROVAL_ADMIN'],
        addedBy: 'ada',
      });
      expect((await ok<{ setProjectMember: Member }>(SET_MEMBER, { p: id, s: sub, r: ['VIEWER'] })).setProjectMember.roles).toEqual(['VIEWER']);
      expect((await members(id)).edges.map((e) => e.node.subject)).toEqual(['ada', sub].sort());

      const empty = await error(SET_MEMBER, { p: id, s: sub, r: [] });
      expect(empty.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roles' });
      expect(empty.message).toContain('removeProjectMember');
      const missing = await error(SET_MEMBER, { p: '00000000-0000-4000-8000-00000000abcd', s: sub, r: ['VIEWER'] });
      expect(missing.extensions?.code).toBe('NOT_FOUND');

      expect((await ok<{ removeProjectMember: boolean }>(REMOVE_MEMBER, { p: id, s: sub })).removeProjectMember).toBe(true);
      expect((await ok<{ removeProjectMember: boolean }>(REMOVE_MEMBER, { p: id, s: sub })).removeProjectMember).toBe(false);
      expect((await members(id)).edges.map((e) => e.node.subject)).toEqual(['ada']);

      await waitFor('the removal event', () => memberEvents.some((e) => e.projectId === id && e.subject === sub && e.roles.length === 0));
      expect(memberEvents.filter((e) => e.projectId === id && e.subject === sub).map((e) => e.roles)).toEqual([['DEVELOPER', 'APPROVAL_ADMIN'], ['VIEWER'], []]);
    });

    it('the last ADMIN of a project cannot be demoted or removed, except by a platform ADMIN', async () => {
      const { id, slug } = await createProject(unique('admins'));
      const patSub = unique('pat');
      const pat = await person(patSub);
      await ok(SET_MEMBER, { p: id, s: patSub, r: ['ADMIN'] });
      expect((await ok<{ removeProjectMember: boolean }>(REMOVE_MEMBER, { p: id, s: 'ada' })).removeProjectMember).toBe(true);

      const demote = await error(SET_MEMBER, { p: id, s: patSub, r: ['DEVELOPER'] }, pat);
      expect(demote.extensions?.code).toBe('CONFLICT');
      expect(demote.message).toContain(`it is the last ADMIN of project "${slug}"`);
      const leave = await error(REMOVE_MEMBER, { p: id, s: patSub }, pat);
      expect(leave.extensions?.code).toBe('CONFLICT');

      const quinn = unique('quinn');
      await ok(SET_MEMBER, { p: id, s: quinn, r: ['ADMIN'] }, pat);
      expect((await ok<{ setProjectMember: Member }>(SET_MEMBER, { p: id, s: patSub, r: ['DEVELOPER'] }, pat)).setProjectMember.roles).toEqual(['DEVELOPER']);
      // quinn is now the last ADMIN; a platform ADMIN may still remove him.
      expect((await ok<{ removeProjectMember: boolean }>(REMOVE_MEMBER, { p: id, s: quinn })).removeProjectMember).toBe(true);
      expect((await members(id)).edges.map((e) => e.node)).toEqual([{ subject: patSub, roles: ['DEVELOPER'], addedBy: 'ada' }]);
    });

    it('rpc.projects.memberships merges stored memberships with the roles groups grant, ignoring unknown slugs', async () => {
      const a = await createProject(unique('ma'));
      const b = await createProject(unique('mb'));
      const sub = unique('gina');
      await platform.setMember(a.id, sub, ['VIEWER']);
      const { memberships } = await bus.request('rpc.projects.memberships', {
        sub,
        groupRoles: [
          { slug: a.slug, roles: ['DEVELOPER', 'VIEWER'] },
          { slug: b.slug, roles: ['APPROVAL_ADMIN'] },
          { slug: 'no-such-project', roles: ['ADMIN'] },
        ],
      });
      expect(memberships).toEqual(
        [
          { projectId: a.id, slug: a.slug, roles: ['VIEWER', 'DEVELOPER'] },
          { projectId: b.id, slug: b.slug, roles: ['APPROVAL_ADMIN'] },
        ].sort((x, y) => x.slug.localeCompare(y.slug)),
      );
      expect((await bus.request('rpc.projects.memberships', { sub: unique('nobody'), groupRoles: [] })).memberships).toEqual([]);
      expect(await bus.request('rpc.projects.ping', { from: 'spec' })).toMatchObject({ service: 'projects' });
    });
  });

  describe('API tokens', () => {
    it('shows the token once and stores only its hash; it works at the gateway for its project and roles only, records its use, and fails at once after revokeApiToken', async () => {
      const { id, slug } = await createProject(unique('ci'));
      const created = (await ok<{ createApiToken: { token: string; apiToken: Token } }>(CREATE_TOKEN, { i: { projectId: id, name: 'deploy bot', roles: ['DEVELOPER'], expiresInDays: 30 } })).createApiToken;
      const { token, apiToken } = created;
      expect(token).toMatch(/^pwt_[A-Za-z0-9_-]{43}$/);
      expect(apiToken).toMatchObject({ projectId: id, name: 'deploy bot', roles: ['DEVELOPER'], createdBy: 'ada', lastUsedAt: null, revokedAt: null });
      const days = (Date.parse(apiToken.expiresAt!) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29.9);
      expect(days).toBeLessThanOrEqual(30);

      const [row] = await serviceQuery<Record<string, unknown>>(platform, 'projects', `SELECT * FROM api_tokens WHERE id = $1`, [apiToken.id]);
      expect(row.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
      expect(JSON.stringify(row)).not.toContain(token.slice(4));
      expect(JSON.stringify(await tokens(id))).not.toContain(token.slice(4));

      // At the gateway: the token is its project's DEVELOPER, nothing more.
      const viewer = (await ok<{ viewer: { sub: string; via: string; roles: string[]; projects: { project: { slug: string }; roles: string[] }[] } }>(`{ viewer { sub via roles projects { project { slug } roles } } }`, {}, token)).viewer;
      expect(viewer).toEqual({ sub: `api-token:${apiToken.id}`, via: 'api-token', roles: [], projects: [{ project: { slug }, roles: ['DEVELOPER'] }] });
      const listed = (await ok<{ projects: Page<{ slug: string }> }>(`{ projects { edges { node { slug } } } }`, {}, token)).projects;
      expect(listed.edges.map((e) => e.node.slug)).toEqual([slug]);
      expect((await error(`{ project(slug: "default") { id } }`, {}, token)).extensions?.code).toBe('FORBIDDEN');
      const own = await error(CREATE_TOKEN, { i: { projectId: id, name: 'more', roles: ['DEVELOPER'] } }, token);
      expect(own.extensions?.code).toBe('FORBIDDEN');
      expect(own.message).toContain('an API token cannot create API tokens');

      const used = (await tokens(id)).edges[0].node;
      expect(used.id).toBe(apiToken.id);
      expect(used.lastUsedAt).not.toBeNull();

      // Over NATS, as the gateway asks: valid, then revoked.
      expect(await bus.request('rpc.projects.api-token.verify', { token })).toEqual({ valid: true, tokenId: apiToken.id, name: 'deploy bot', projectId: id, slug, roles: ['DEVELOPER'], createdBy: 'ada' });
      const revoked = (await ok<{ revokeApiToken: Token }>(`mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }`, { id: apiToken.id })).revokeApiToken;
      expect(revoked.revokedAt).not.toBeNull();
      const verdict = await bus.request('rpc.projects.api-token.verify', { token });
      expect(verdict).toEqual({ valid: false, reason: `revoked at ${revoked.revokedAt}` });
      const refused = await call(`{ viewer { sub } }`, {}, token);
      expect(refused.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(refused.errors?.[0].message).toContain('revoked at');

      expect((await tokens(id)).totalCount).toBe(0);
      expect((await tokens(id, true)).edges.map((e) => [e.node.id, e.node.revokedAt])).toEqual([[apiToken.id, revoked.revokedAt]]);
      await waitFor('the revoked event', () => tokenEvents.some((e) => e.id === apiToken.id && e.change === 'revoked'));
      expect(tokenEvents.filter((e) => e.id === apiToken.id).map((e) => e.change)).toEqual(['created', 'revoked']);
    });

    it('checks its input, expires, and dies with its project; only the project ADMIN manages tokens', async () => {
      const { id } = await createProject(unique('tok'));
      for (const [input, field] of [
        [{ projectId: id, name: 'x', roles: ['VIEWER'], expiresInDays: 0 }, 'input.expiresInDays'],
        [{ projectId: id, name: 'x', roles: ['VIEWER'], expiresInDays: 3651 }, 'input.expiresInDays'],
        [{ projectId: id, name: ' ', roles: ['VIEWER'] }, 'input.name'],
        [{ projectId: id, name: 'x', roles: [] }, 'input.roles'],
      ] as const) {
        expect((await error(CREATE_TOKEN, { i: input })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      }

      const forever = (await ok<{ createApiToken: { token: string; apiToken: Token } }>(CREATE_TOKEN, { i: { projectId: id, name: 'forever', roles: ['VIEWER'] } })).createApiToken;
      expect(forever.apiToken.expiresAt).toBeNull();
      const short = (await ok<{ createApiToken: { token: string; apiToken: Token } }>(CREATE_TOKEN, { i: { projectId: id, name: 'short', roles: ['VIEWER'], expiresInDays: 1 } })).createApiToken;
      // Time passes: the token's expiry is moved into the past.
      await serviceQuery(platform, 'projects', `UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1`, [short.apiToken.id]);
      const expired = await bus.request('rpc.projects.api-token.verify', { token: short.token });
      expect(expired).toMatchObject({ valid: false, reason: expect.stringMatching(/^expired at \d{4}-/) });
      expect(await bus.request('rpc.projects.api-token.verify', { token: `pwt_${randomBytes(32).toString('base64url')}` })).toEqual({ valid: false, reason: 'unknown API token' });

      const devSub = unique('dev');
      const dev = await person(devSub);
      await platform.setMember(id, devSub, ['DEVELOPER']);
      const revoke = await error(`mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: forever.apiToken.id }, dev);
      expect(revoke.extensions?.code).toBe('FORBIDDEN');
      expect((await error(`mutation { revokeApiToken(id: "00000000-0000-4000-8000-00000000abcd") { id } }`)).extensions?.code).toBe('NOT_FOUND');

      expect((await bus.request('rpc.projects.api-token.verify', { token: forever.token })).valid).toBe(true);
      await ok(`mutation($id: ID!) { deleteProject(id: $id) }`, { id });
      expect(await bus.request('rpc.projects.api-token.verify', { token: forever.token })).toEqual({ valid: false, reason: 'unknown API token' });
      expect(await serviceQuery(platform, 'projects', `SELECT id FROM api_tokens WHERE project_id = $1`, [id])).toEqual([]);
    });
  });

  describe('viewer', () => {
    it('answers who the caller is, with its real memberships only (also for a platform ADMIN)', async () => {
      const { id, slug } = await createProject(unique('mine'));
      const sub = unique('vera');
      const vera = await platform.token({ sub, name: 'Vera V', roles: ['VIEWER'] });
      await platform.setMember(id, sub, ['DEVELOPER', 'APPROVAL_ADMIN']);
      const VIEWER = `{ viewer { sub name roles via projects { project { id slug } roles } } }`;
      const seen = (await ok<{ viewer: { sub: string; name: string; roles: string[]; via: string; projects: { project: { id: string; slug: string }; roles: string[] }[] } }>(VIEWER, {}, vera)).viewer;
      expect(seen).toMatchObject({ sub, name: 'Vera V', via: 'oidc' });
      expect(seen.projects.sort((x, y) => x.project.slug.localeCompare(y.project.slug))).toEqual(
        [
          { project: { id: DEFAULT_PROJECT_ID, slug: 'default' }, roles: ['VIEWER'] },
          { project: { id, slug }, roles: ['DEVELOPER', 'APPROVAL_ADMIN'] },
        ].sort((x, y) => x.project.slug.localeCompare(y.project.slug)),
      );

      const root = await platform.token({ sub: unique('root'), roles: ['ADMIN'] });
      expect((await ok<{ viewer: { roles: string[]; projects: unknown[] } }>(VIEWER, {}, root)).viewer).toMatchObject({ roles: ['ADMIN'], projects: [] });
    });
  });
});
