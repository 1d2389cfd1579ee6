// Runs and approvals per project, through the gateway with the real projects service: a member of
// project A never sees or touches a run of project B, and approvals are decided in the run's project.
import type { RunStatus } from '@pipewright/contracts';
import { gql, pipelineDriver, serviceQuery, startPlatform, type GraphQLResponse, type TestPlatform } from '@pipewright/testing';
import { randomBytes } from 'node:crypto';

const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;

interface StageOut {
  refId: string;
  status: string;
  error: string | null;
  outputs: Record<string, unknown> | null;
  prompt: Record<string, unknown> | null;
  decision: { decision: string; comment: string | null; by: string; at: string } | null;
}
interface RunOut {
  id: string;
  projectId: string;
  project: { id: string } | null;
  status: RunStatus;
  reason: string | null;
  stages: StageOut[];
}
type Page = { totalCount: number; edges: { node: { id: string; projectId: string } }[] };
const RUN_FIELDS = 'id projectId project { id } status reason stages { refId status error outputs prompt decision { decision comment by at } }';
const gate = { refId: 'gate', name: 'gate', type: 'JUDGEMENT', config: {} };
const approval = (config: Record<string, unknown> = {}) => ({ refId: 'approve', name: 'Approve', type: 'APPROVAL', config: { message: 'Ship it?', ...config } });

describe('runs and approvals per project (real PostgreSQL, NATS, gateway, projects service)', () => {
  let platform: TestPlatform;
  let A: string;
  let B: string;
  const t: Record<string, string> = {};

  const { ok, read, reach, stage } = pipelineDriver<RunOut>(() => platform.gatewayUrl, () => t.devA, RUN_FIELDS, { label: 'projects' });
  /** Reads runs as B's developer (A's members may not). */
  const asB = pipelineDriver<RunOut>(() => platform.gatewayUrl, () => t.devB, RUN_FIELDS);
  const call = <T = Record<string, unknown>>(token: string, query: string, variables?: Record<string, unknown>) => gql<T>(platform.gatewayUrl, query, { token, variables });
  const codeOf = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code;
  const pipelineIn = async (projectId: string, token: string, stages: unknown[]) =>
    (await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { projectId, name: unique('p'), stages } }, token)).createPipeline.id;
  const RUN = `mutation($p: ID!) { runPipeline(pipelineId: $p) { ${RUN_FIELDS} } }`;
  const startAs = async (token: string, pipelineId: string) => (await ok<{ runPipeline: RunOut }>(RUN, { p: pipelineId }, token)).runPipeline;
  const APPROVE = `mutation($r: ID!, $d: Decision!, $c: String) { approve(runId: $r, refId: "approve", decision: $d, comment: $c) { status outputs decision { decision comment by at } } }`;
  const approve = (token: string, runId: string, decision = 'CONTINUE', comment?: string) => call<{ approve: StageOut }>(token, APPROVE, { r: runId, d: decision, c: comment ?? null });
  const runsOf = async (token: string, args: string) => (await ok<{ runs: Page }>(`query { runs(${args}, first: 100) { totalCount edges { node { id projectId } } } }`, {}, token)).runs;

  beforeAll(async () => {
    // No builds in this suite: the real builds service serves its API only.
    platform = await startPlatform('exec-projects', {}, { builds: { BUILDS_MAX_PARALLEL: '0' } });
    A = await platform.createProject(unique('team-a'));
    B = await platform.createProject(unique('team-b'));
    const member = async (sub: string, projectId: string, roles: ('VIEWER' | 'DEVELOPER' | 'ADMIN' | 'APPROVAL_ADMIN')[]) => {
      await platform.setMember(projectId, sub, roles);
      return platform.token({ sub, roles: [] });
    };
    t.devA = await member('dev-a', A, ['DEVELOPER']);
    t.leadA = await member('lead-a', A, ['DEVELOPER', 'APPROVAL_ADMIN']);
    t.adminA = await member('admin-a', A, ['ADMIN']);
    t.devB = await member('dev-b', B, ['DEVELOPER']);
    t.approverA = await member('approver-a', A, ['APPROVAL_ADMIN']);
    t.approverB = await member('approver-b', B, ['APPROVAL_ADMIN']);
    t.lee = await member('lee', A, ['VIEWER']);
    t.nia = await member('nia', B, ['APPROVAL_ADMIN']);
    t.admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it("a DEVELOPER of A runs A's pipeline in A; running B's pipeline is FORBIDDEN and starts nothing", async () => {
    const pA = await pipelineIn(A, t.devA, [gate]);
    const run = await startAs(t.devA, pA);
    expect(run).toMatchObject({ projectId: A, project: { id: A } });
    expect(await serviceQuery(platform, 'executions', `SELECT project_id FROM runs WHERE id = $1`, [run.id])).toEqual([{ project_id: A }]);

    const pB = await pipelineIn(B, t.devB, [gate]);
    const denied = await call(t.devA, RUN, { p: pB });
    expect(codeOf(denied)).toBe('FORBIDDEN');
    expect(denied.errors![0].message).toContain(B);
    expect(denied.errors![0].message).toContain('DEVELOPER');
    expect(await serviceQuery(platform, 'executions', `SELECT count(*)::int AS n FROM runs WHERE pipeline_id = $1`, [pB])).toEqual([{ n: 0 }]);
    // Neither may a member of A without a role that runs pipelines.
    expect(codeOf(await call(t.lee, RUN, { p: pA }))).toBe('FORBIDDEN');
  });

  it("a run of B is FORBIDDEN by id and absent from every list of A's members", async () => {
    const pA = await pipelineIn(A, t.devA, [gate]);
    const pB = await pipelineIn(B, t.devB, [gate]);
    const runA = await startAs(t.devA, pA);
    const runB = await startAs(t.devB, pB);
    await asB.reach(runB.id, ['WAITING']);

    const byId = await call<{ run: RunOut | null }>(t.devA, `query($id: ID!) { run(id: $id) { id } }`, { id: runB.id });
    expect(codeOf(byId)).toBe('FORBIDDEN');
    expect(byId.data?.run ?? null).toBeNull();
    expect(codeOf(await call(t.devA, `query($id: ID!) { run(id: $id, atSequence: 1) { id } }`, { id: runB.id }))).toBe('FORBIDDEN');

    const listA = await runsOf(t.devA, `projectId: "${A}"`);
    expect(listA.edges.map((e) => e.node.id)).toContain(runA.id);
    expect(listA.edges.map((e) => e.node.id)).not.toContain(runB.id);
    expect(new Set(listA.edges.map((e) => e.node.projectId))).toEqual(new Set([A]));
    expect(await runsOf(t.devA, `pipelineId: "${pB}"`)).toEqual({ totalCount: 0, edges: [] });
    expect(codeOf(await call(t.devA, `query { runs(projectId: "${B}") { totalCount } }`))).toBe('FORBIDDEN');
    // Its own members see it, by pipeline and by project; so does a platform ADMIN.
    expect((await runsOf(t.devB, `pipelineId: "${pB}"`)).edges.map((e) => e.node.id)).toEqual([runB.id]);
    expect((await runsOf(t.admin, `pipelineId: "${pB}"`)).edges.map((e) => e.node.id)).toEqual([runB.id]);

    // Nothing through the projects service's entity either: A's runs for A, B's refused.
    const projectRuns = await ok<{ project: { runs: Page } }>(`query($id: ID!) { project(id: $id) { runs(first: 100) { totalCount edges { node { id projectId } } } } }`, { id: A }, t.devA);
    expect(projectRuns.project.runs.edges.map((e) => e.node.id)).toContain(runA.id);
    expect(projectRuns.project.runs.edges.every((e) => e.node.projectId === A)).toBe(true);
    const otherProject = await call<{ project: { runs: Page } | null }>(t.devA, `query($id: ID!) { project(id: $id) { runs { totalCount } } }`, { id: B });
    expect(otherProject.data?.project?.runs ?? null).toBeNull();
    expect(codeOf(otherProject)).toBe('FORBIDDEN');

    // No mutation of A's members reaches it, and it is still waiting afterwards.
    expect(codeOf(await call(t.devA, `mutation($r: ID!) { cancelRun(runId: $r) { id } }`, { r: runB.id }))).toBe('FORBIDDEN');
    expect(codeOf(await call(t.devA, `mutation($r: ID!) { judge(runId: $r, refId: "gate", decision: CONTINUE) { status } }`, { r: runB.id }))).toBe('FORBIDDEN');
    expect(codeOf(await call(t.devA, `mutation($r: ID!) { restartStage(runId: $r, refId: "gate") { id } }`, { r: runB.id }))).toBe('FORBIDDEN');
    expect((await asB.read(runB.id)).status).toBe('WAITING');
  });

  it("APPROVAL_ADMIN of A approves a run in A; APPROVAL_ADMIN of B, a platform ADMIN and A's DEVELOPER are FORBIDDEN; who and when are recorded", async () => {
    const p = await pipelineIn(A, t.devA, [approval()]);
    const r = await startAs(t.devA, p);
    const waiting = await reach(r.id, ['WAITING']);
    expect(stage(waiting, 'approve').prompt).toMatchObject({ message: 'Ship it?', approvers: { projectId: A, role: 'APPROVAL_ADMIN', subjects: null, who: expect.stringContaining('APPROVAL_ADMIN') } });

    for (const token of [t.approverB, t.admin, t.devA]) {
      const denied = await approve(token, r.id);
      expect(codeOf(denied)).toBe('FORBIDDEN');
      expect(denied.errors![0].message).toContain('APPROVAL_ADMIN');
    }
    expect(stage(await reach(r.id, ['WAITING']), 'approve').status).toBe('WAITING');

    const before = Date.now();
    const approved = await approve(t.approverA, r.id, 'CONTINUE', 'lgtm');
    expect(approved.errors).toBeUndefined();
    const { decision, outputs, status } = approved.data!.approve;
    expect(status).toBe('SUCCEEDED');
    expect(decision).toMatchObject({ decision: 'CONTINUE', comment: 'lgtm', by: 'approver-a' });
    expect(new Date(decision!.at).getTime()).toBeGreaterThanOrEqual(before - 5000);
    expect(outputs).toMatchObject({ approvedBy: 'approver-a', approvedAt: decision!.at, comment: 'lgtm' });
    expect((await reach(r.id)).status).toBe('SUCCEEDED');
  });

  it('approvers.subjects: only the listed subjects who are members of the run project may decide, and the prompt says who', async () => {
    // Who approves is for an APPROVAL_ADMIN to choose, so a developer cannot name himself.
    const byDeveloper = await call(t.devA, `mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { projectId: A, name: unique('p'), stages: [approval({ approvers: { subjects: ['dev-a'] } })] } });
    expect(codeOf(byDeveloper)).toBe('FORBIDDEN');
    expect(byDeveloper.errors![0].extensions).toMatchObject({ field: 'stages[0].config.approvers' });
    // Nor a project ADMIN (who may not make himself APPROVAL_ADMIN either).
    const byAdmin = await call(t.adminA, `mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { projectId: A, name: unique('p'), stages: [approval({ approvers: { subjects: ['admin-a'] } })] } });
    expect(codeOf(byAdmin)).toBe('FORBIDDEN');
    const p = await pipelineIn(A, t.leadA, [approval({ approvers: { subjects: ['lee', 'nia'] } })]);
    const r = await startAs(t.devA, p);
    const waiting = await reach(r.id, ['WAITING']);
    const prompt = stage(waiting, 'approve').prompt as { approvers: { subjects: string[]; role: string | null; who: string } };
    expect(prompt.approvers).toMatchObject({ subjects: ['lee', 'nia'], role: null });
    expect(prompt.approvers.who).toContain('"lee"');

    // A's APPROVAL_ADMIN is not listed; nia is listed but a member of B only; the platform ADMIN is neither.
    for (const token of [t.approverA, t.admin]) {
      const denied = await approve(token, r.id);
      expect(codeOf(denied)).toBe('FORBIDDEN');
      expect(denied.errors![0].message).toContain('"lee"');
    }
    // nia is not a member of A at all: refused before anything of the run is told.
    const outsider = await approve(t.nia, r.id);
    expect(codeOf(outsider)).toBe('FORBIDDEN');
    expect(outsider.errors![0].message).toMatch(/not a member/);
    const stopped = await approve(t.lee, r.id, 'STOP', 'not today');
    expect(stopped.errors).toBeUndefined();
    expect(stopped.data!.approve).toMatchObject({ status: 'STOPPED', decision: { decision: 'STOP', comment: 'not today', by: 'lee' } });
    const run = await reach(r.id);
    expect(run.status).toBe('STOPPED');
    expect(run.reason).toBe('stopped at "approve" by lee: not today');
  });

  it('RUN_PIPELINE: the child run gets the parent project; a child pipeline of another project is refused at run time', async () => {
    const child = await pipelineIn(A, t.devA, [gate]);
    const parent = await pipelineIn(A, t.devA, [{ refId: 'child', name: 'child', type: 'RUN_PIPELINE', config: { pipelineId: child, waitForCompletion: false } }]);
    const first = await reach((await startAs(t.devA, parent)).id);
    expect(first.status).toBe('SUCCEEDED');
    const childRunId = stage(first, 'child').outputs!.childRunId as string;
    expect(await read(childRunId)).toMatchObject({ projectId: A, project: { id: A } });

    // As a pipeline saved before the pipelines service checked this: the child now belongs to B.
    await serviceQuery(platform, 'pipelines', `UPDATE pipelines SET project_id = $1 WHERE id = $2`, [B, child]);
    const refused = await reach((await startAs(t.devA, parent)).id);
    expect(refused.status).toBe('FAILED');
    expect(stage(refused, 'child').status).toBe('FAILED');
    expect(stage(refused, 'child').error).toContain('RUN_PIPELINE may only start pipelines of its own project');
    expect(stage(refused, 'child').error).toContain(B);
    expect(await serviceQuery(platform, 'executions', `SELECT count(*)::int AS n FROM runs WHERE pipeline_id = $1`, [child])).toEqual([{ n: 1 }]);
  });
});
