import { TERMINAL_RUN_STATUSES } from '@pipewright/contracts';
import { withClient } from './database';
import { gql, type TestPlatform } from './platform';
import { waitFor } from './wait';

/** What a test reads of a run: at least its status and its stages by refId. */
export interface RunLike {
  id: string;
  status: string;
  stages: { refId: string }[];
}

/**
 * Pipelines and runs through the gateway (its URL and the caller's token read when used, so a
 * suite can make one before its platform starts), as a user of the API drives them: `ok` runs an operation
 * and fails the test on any GraphQL error; `reach` waits until a run gets to one of `statuses`.
 */
export function pipelineDriver<R extends RunLike>(gatewayUrl: () => string, token: () => string, runFields: string, options: { label?: string; reachTimeoutMs?: number } = {}) {
  let n = 0;
  const ok = async <T>(query: string, variables?: Record<string, unknown>, as = token()): Promise<T> => {
    const res = await gql<T>(gatewayUrl(), query, { token: as, variables });
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data!;
  };
  const pipeline = async (stages: unknown[], parameters: unknown[] = []) =>
    (
      await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, {
        i: { name: `${options.label ?? 'pipeline'}-${process.pid}-${Date.now().toString(36)}-${n++}`, stages, parameters },
      })
    ).createPipeline.id;
  const start = async (pipelineId: string, parameters?: Record<string, unknown>) =>
    (await ok<{ runPipeline: R }>(`mutation($p: ID!, $params: JSON) { runPipeline(pipelineId: $p, parameters: $params) { ${runFields} } }`, { p: pipelineId, params: parameters })).runPipeline;
  const read = async (runId: string) => (await ok<{ run: R }>(`query($id: ID!) { run(id: $id) { ${runFields} } }`, { id: runId })).run;
  const reach = (runId: string, statuses: readonly string[] = TERMINAL_RUN_STATUSES) =>
    waitFor(
      `run ${runId} to reach ${statuses.join('/')}`,
      async () => {
        const r = await read(runId);
        return statuses.includes(r.status) ? r : undefined;
      },
      options.reachTimeoutMs ?? 180_000,
    );
  const stage = <S extends R['stages'][number]>(run: R, refId: string) => run.stages.find((s) => s.refId === refId)! as S;
  return { ok, pipeline, start, read, reach, stage };
}

/** Runs SQL against one service's own database in a test platform (to look at what the API does not show). */
export function serviceQuery<T = Record<string, unknown>>(platform: TestPlatform, service: keyof TestPlatform['serviceEnvs'], sql: string, params: unknown[] = []): Promise<T[]> {
  return withClient(platform.serviceEnvs[service].DATABASE_URL, async (c) => (await c.query(sql, params)).rows as T[]);
}
