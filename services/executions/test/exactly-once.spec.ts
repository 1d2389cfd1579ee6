import { gql, hostPortOf, startPlatform, waitFor, type TestPlatform } from '@pipewright/testing';
import { randomBytes } from 'node:crypto';
import { HeldHooks } from './held-hooks';

const LEASE_SECONDS = 2;

describe('exactly once: a stage call longer than the engine lease', () => {
  let platform: TestPlatform;
  let token: string;
  const hooks = new HeldHooks();

  beforeAll(async () => {
    await hooks.start();
    platform = await startPlatform('once', {}, { executions: { ENGINE_LEASE_SECONDS: String(LEASE_SECONDS), ENGINE_SWEEP_MS: '200' } }, { outbound: [hostPortOf(hooks.url)] });
    token = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
  });
  afterAll(async () => {
    await platform?.stop();
    await hooks.stop();
  });

  const ok = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const res = await gql<T>(platform.gatewayUrl, query, { token, variables });
    if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
    return res.data!;
  };

  it('calls a webhook that answers after 3x ENGINE_LEASE_SECONDS exactly once, and the stage succeeds', async () => {
    const tag = randomBytes(3).toString('hex');
    const path = `/after/${3 * LEASE_SECONDS * 1000}/${tag}`;
    const stages = [{ refId: 'slow', name: 'slow', type: 'WEBHOOK', config: { url: `${hooks.url}${path}`, timeoutSeconds: 60 } }];
    const pipelineId = (await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { name: `once-${tag}`, stages } })).createPipeline.id;
    const runId = (await ok<{ runPipeline: { id: string } }>(`mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }`, { p: pipelineId })).runPipeline.id;
    const read = async () => (await ok<{ run: { status: string; stages: { status: string; attempt: number; outputs: { status?: number } | null }[] } }>(`query($id: ID!) { run(id: $id) { status stages { status attempt outputs } } }`, { id: runId })).run;
    await waitFor('the run to end', async () => ['SUCCEEDED', 'FAILED', 'CANCELED'].includes((await read()).status), 60_000);
    const run = await read();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.stages[0]).toMatchObject({ status: 'SUCCEEDED', attempt: 1, outputs: { status: 200 } });
    expect(hooks.count(path, `${runId}/slow/1`)).toBe(1);
    expect([...hooks.calls.keys()].filter((k) => k.startsWith(`${path} `))).toEqual([`${path} ${runId}/slow/1`]);
  }, 120_000);
});
