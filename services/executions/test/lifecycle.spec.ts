import { gql, hostPortOf, startPlatform, waitFor, type TestPlatform } from '@pipewright/testing';
import { randomBytes } from 'node:crypto';
import { HooksServer } from './hooks-server';

interface RunOut {
  id: string;
  number: number;
  status: string;
  stages: { refId: string; status: string; attempt: number; outputs: Record<string, unknown> | null; restartedBy: string | null; restartedAt: string | null }[];
}
const RUN = 'id number status stages { refId status attempt outputs restartedBy restartedAt }';

describe('run lifecycle: restart, output caps, retention', () => {
  let platform: TestPlatform;
  let token: string;
  const hooks = new HooksServer();

  beforeAll(async () => {
    await hooks.start();
    platform = await startPlatform('lifecycle', {}, { executions: { RUN_RETENTION_DAYS: '0', RUN_RETENTION_MIN_PER_PIPELINE: '2', RUN_RETENTION_SWEEP_MS: '300', STAGE_OUTPUTS_MAX_BYTES: '2048' } }, { outbound: [hostPortOf(hooks.url)] });
    token = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
  });
  afterAll(async () => {
    await platform?.stop();
    await hooks.stop();
  });

  const ok = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await gql<T>(platform.gatewayUrl, query, { token, variables });
    if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
    return res.data!;
  };
  const pipeline = async (stages: unknown[]) => (await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { name: `p-${randomBytes(3).toString('hex')}`, stages } })).createPipeline.id;
  const run = async (pipelineId: string) => (await ok<{ runPipeline: RunOut }>(`mutation($p: ID!) { runPipeline(pipelineId: $p) { ${RUN} } }`, { p: pipelineId })).runPipeline;
  const read = async (id: string) => (await ok<{ run: RunOut }>(`query($id: ID!) { run(id: $id) { ${RUN} } }`, { id })).run;
  const finished = (id: string) => waitFor(`run ${id} to finish`, async () => {
    const r = await read(id);
    return ['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED'].includes(r.status) ? r : undefined;
  });

  it('refuses malformed ids and revisions as BAD_USER_INPUT naming the argument, not as internal errors', async () => {
    const id = await pipeline([{ refId: 'j', name: 'j', type: 'JUDGEMENT', config: {} }]);
    const cases: [string, Record<string, unknown>, string][] = [
      ['mutation($r: ID!) { cancelRun(runId: $r) { id } }', { r: 'nope' }, 'runId'],
      ['query($p: ID) { runs(pipelineId: $p) { totalCount } }', { p: 'x' }, 'pipelineId'],
      ['query($r: ID!) { run(id: $r) { id } }', { r: '1; drop table runs' }, 'id'],
      ['mutation($p: ID!) { runPipeline(pipelineId: $p, revision: -1) { id } }', { p: id }, 'revision'],
      ['mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }', { p: 'not-a-pipeline' }, 'pipelineId'],
      ['mutation($r: ID!) { restartStage(runId: $r, refId: "j") { id } }', { r: 'zz' }, 'runId'],
      ['mutation($r: ID!) { judge(runId: $r, refId: "j", decision: STOP) { refId } }', { r: 'zz' }, 'runId'],
      ['mutation($r: ID!) { approve(runId: $r, refId: "j", decision: STOP) { refId } }', { r: 'zz' }, 'runId'],
    ];
    for (const [query, variables, field] of cases) {
      const res = await gql(platform.gatewayUrl, query, { token, variables });
      expect({ query, code: res.errors?.[0]?.extensions?.code, field: res.errors?.[0]?.extensions?.field }).toEqual({ query, code: 'BAD_USER_INPUT', field });
      expect(res.errors![0].message).toContain(field);
    }
  });

  it('restarts a failed stage and everything after it, recording who', async () => {
    const path = `/flaky/${randomBytes(3).toString('hex')}`;
    const id = await pipeline([
      { refId: 'deploy', name: 'deploy', type: 'WEBHOOK', config: { url: `${hooks.url}${path}`, failFastStatusCodes: [503] } },
      { refId: 'notify', name: 'notify', type: 'WEBHOOK', dependsOn: ['deploy'], config: { url: `${hooks.url}/ok/notify` } },
    ]);
    const failedRun = await finished((await run(id)).id);
    expect(failedRun.status).toBe('FAILED');
    expect(failedRun.stages.map((s) => s.status)).toEqual(['FAILED', 'SKIPPED']);

    const restarted = await ok<{ restartStage: RunOut }>(`mutation($r: ID!) { restartStage(runId: $r, refId: "deploy") { ${RUN} } }`, { r: failedRun.id });
    expect(restarted.restartStage.stages[0]).toMatchObject({ restartedBy: 'dee', restartedAt: expect.any(String) });
    const done = await finished(failedRun.id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.stages.map((s) => [s.refId, s.status, s.attempt])).toEqual([
      ['deploy', 'SUCCEEDED', 1],
      ['notify', 'SUCCEEDED', 1],
    ]);
    expect(hooks.count(path)).toBe(2);

    const again = await gql(platform.gatewayUrl, `mutation($r: ID!) { restartStage(runId: $r, refId: "nope") { id } }`, { token, variables: { r: failedRun.id } });
    expect(again.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('keeps large stage outputs out of the record and says so', async () => {
    const id = await pipeline([{ refId: 'big', name: 'big', type: 'WEBHOOK', config: { url: `${hooks.url}/big/10000` } }]);
    const done = await finished((await run(id)).id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.stages[0].outputs).toMatchObject({ outputsTruncated: true, originalBytes: expect.any(Number), note: expect.stringContaining('over the 2048-byte limit (STAGE_OUTPUTS_MAX_BYTES)') });
  });

  it('deletes finished runs past retention but keeps the newest of each pipeline', async () => {
    const id = await pipeline([{ refId: 'a', name: 'a', type: 'WEBHOOK', config: { url: `${hooks.url}/ok/retention` } }]);
    for (let i = 0; i < 4; i++) await finished((await run(id)).id);
    const kept = await waitFor('retention to delete the two oldest runs', async () => {
      const page = await ok<{ runs: { totalCount: number; edges: { node: { number: number } }[] } }>(`query($p: ID!) { runs(pipelineId: $p) { totalCount edges { node { number } } } }`, { p: id });
      return page.runs.totalCount === 2 ? page.runs.edges.map((e) => e.node.number) : undefined;
    });
    expect(kept).toEqual([4, 3]);
  });
});
