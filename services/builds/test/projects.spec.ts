// Builds per project, through the gateway with the real projects and environments services. The
// test stands in for the executions service: it sends the build commands itself.
import { DEFAULT_PROJECT_ID, type BuildStart } from '@pipewright/contracts';
import { MessageBus, type BusLogger } from '@pipewright/messaging';
import { connectTestNats, gql, serviceQuery, startPlatform, waitFor, type GraphQLResponse, type TestPlatform } from '@pipewright/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;

interface BuildOut {
  id: string;
  projectId: string;
  project: { id: string } | null;
  status: string;
  error: string | null;
  log: { lines: { text: string }[] };
}
type Page = { totalCount: number; edges: { node: { id: string; projectId: string } }[] };
const BUILD_FIELDS = 'id projectId project { id } status error log { lines { text } }';

describe('builds per project (real PostgreSQL, NATS, gateway, projects and environments services)', () => {
  let platform: TestPlatform;
  let nc: NatsConnection;
  let bus: MessageBus;
  let workspaces: string;
  let A: string;
  let B: string;
  const t: Record<string, string> = {};

  const call = <T = Record<string, unknown>>(token: string, query: string, variables?: Record<string, unknown>) => gql<T>(platform.gatewayUrl, query, { token, variables });
  const ok = async <T>(token: string, query: string, variables?: Record<string, unknown>): Promise<T> => {
    const res = await call<T>(token, query, variables);
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data!;
  };
  const codeOf = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code;
  const buildsOf = async (token: string, args: string) => (await ok<{ builds: Page }>(token, `query { builds(${args}, first: 100) { totalCount edges { node { id projectId } } } }`)).builds;

  /** Sends a SOURCE_GITHUB build command (of a run that exists only in this test) and waits for the build to end. */
  const sourceBuild = async (projectId: string | undefined, repositoryId: string, reader: string) => {
    const command: BuildStart = {
      buildRequestId: randomUUID(),
      runId: randomUUID(),
      runNumber: 1,
      pipelineId: randomUUID(),
      ...(projectId ? { projectId } : {}),
      refId: 'source',
      stageType: 'SOURCE_GITHUB',
      config: { repositoryId, branch: 'main' },
      parameters: {},
      artifacts: {},
    };
    await bus.publish('cmd.builds.build.start.v1', command, { msgId: command.buildRequestId });
    const id = await waitFor(`the build of ${command.runId} to end`, async () => {
      const [row] = await serviceQuery<{ id: string; status: string }>(platform, 'builds', `SELECT id, status FROM builds WHERE run_id = $1`, [command.runId]);
      return row && row.status !== 'QUEUED' && row.status !== 'RUNNING' ? row.id : undefined;
    }, 60_000);
    const build = (await ok<{ build: BuildOut }>(reader, `query($id: ID!) { build(id: $id) { ${BUILD_FIELDS} } }`, { id })).build;
    return { command, build };
  };

  beforeAll(async () => {
    workspaces = mkdtempSync(join(tmpdir(), 'pw-builds-projects-'));
    platform = await startPlatform('builds-projects', {}, { builds: { GIT_BIN: 'git', BUILD_WORKSPACE_DIR: workspaces, BUILDS_INSTANCE_ID: 'builds-projects-spec' } });
    nc = await connectTestNats('builds-projects-spec');
    bus = new MessageBus(nc, platform.prefix, 'builds-projects-spec', quiet);
    A = await platform.createProject(unique('team-a'));
    B = await platform.createProject(unique('team-b'));
    await platform.setMember(A, 'dev-a', ['DEVELOPER']);
    await platform.setMember(B, 'dev-b', ['DEVELOPER']);
    t.devA = await platform.token({ sub: 'dev-a', roles: [] });
    t.devB = await platform.token({ sub: 'dev-b', roles: [] });
    t.devDefault = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    t.admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    // A repository of B whose URL answers nothing: resolving it is all these builds get to.
    t.repoB = (
      await ok<{ createSourceRepository: { id: string } }>(t.admin, `mutation($i: CreateSourceRepositoryInput!) { createSourceRepository(input: $i) { id } }`, {
        i: { projectId: B, name: unique('repo'), provider: 'GITHUB', url: 'http://127.0.0.1:9/nothing.git', defaultBranch: 'main' },
      })
    ).createSourceRepository.id;
  });
  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    if (workspaces) rmSync(workspaces, { recursive: true, force: true });
  });

  it("a build of B is FORBIDDEN by id and absent from every list of A's members", async () => {
    const { command, build } = await sourceBuild(B, randomUUID(), t.devB);
    expect(build).toMatchObject({ projectId: B, project: { id: B }, status: 'FAILED' });
    expect(await serviceQuery(platform, 'builds', `SELECT project_id FROM builds WHERE id = $1`, [build.id])).toEqual([{ project_id: B }]);

    const byId = await call<{ build: BuildOut | null }>(t.devA, `query($id: ID!) { build(id: $id) { id log { lines { text } } } }`, { id: build.id });
    expect(codeOf(byId)).toBe('FORBIDDEN');
    expect(byId.errors![0].message).toContain(B);
    expect(byId.data?.build ?? null).toBeNull();
    expect(await buildsOf(t.devA, `runId: "${command.runId}"`)).toEqual({ totalCount: 0, edges: [] });
    expect(await buildsOf(t.devA, `pipelineId: "${command.pipelineId}", stageRefId: "source"`)).toEqual({ totalCount: 0, edges: [] });
    expect(codeOf(await call(t.devA, `query { builds(projectId: "${B}") { totalCount } }`))).toBe('FORBIDDEN');
    const projectBuilds = await call<{ project: { builds: Page } | null }>(t.devA, `query($id: ID!) { project(id: $id) { builds { totalCount } } }`, { id: B });
    expect(codeOf(projectBuilds)).toBe('FORBIDDEN');
    expect(projectBuilds.data?.project?.builds ?? null).toBeNull();

    // B's members see it by run, by pipeline, in the project and through the project entity.
    expect((await buildsOf(t.devB, `runId: "${command.runId}"`)).edges.map((e) => e.node.id)).toEqual([build.id]);
    expect((await buildsOf(t.devB, `pipelineId: "${command.pipelineId}"`)).edges.map((e) => e.node.id)).toEqual([build.id]);
    expect((await buildsOf(t.devB, `projectId: "${B}"`)).edges.map((e) => e.node.id)).toContain(build.id);
    const viaProject = await ok<{ project: { builds: Page } }>(t.devB, `query($id: ID!) { project(id: $id) { builds(first: 100) { totalCount edges { node { id projectId } } } } }`, { id: B });
    expect(viaProject.project.builds.edges.map((e) => e.node.id)).toContain(build.id);
    expect(viaProject.project.builds.edges.every((e) => e.node.projectId === B)).toBe(true);
  });

  it("a build resolves environment resources in its own project only: B's repository is refused to a build of A", async () => {
    const { build } = await sourceBuild(A, t.repoB, t.devA);
    expect(build.status).toBe('FAILED');
    expect(build.error).toContain(`source repository ${t.repoB} does not exist any more: fix repositoryId`);
    // The same repository resolves for B's own build (which then fails at the unreachable URL instead).
    const own = await sourceBuild(B, t.repoB, t.devB);
    expect(own.build.status).toBe('FAILED');
    expect(own.build.error).not.toContain('does not exist');
    expect(own.build.log.lines.map((l) => l.text).join('\n')).toContain('resolving branch main');
  });

  it('a command without projectId (sent before projects existed) builds in the default project', async () => {
    const { command, build } = await sourceBuild(undefined, randomUUID(), t.devDefault);
    expect(build.projectId).toBe(DEFAULT_PROJECT_ID);
    expect((await buildsOf(t.devDefault, `runId: "${command.runId}"`)).edges.map((e) => e.node.id)).toEqual([build.id]);
    expect((await buildsOf(t.devDefault, 'stageRefId: "source"')).edges.map((e) => e.node.id)).toContain(build.id);
    expect(await buildsOf(t.devA, `runId: "${command.runId}"`)).toEqual({ totalCount: 0, edges: [] });
  });
});
