import { requestSecrets, type Secrets } from '@pipewright/platform';
import type { StageContext } from './stage-type';

export type { Secrets } from '@pipewright/platform';

/** Asks the environments service for the values of the secrets `texts` name, in the run's project. */
export function resolveSecrets(ctx: Pick<StageContext, 'request' | 'run'>, ...texts: (string | undefined)[]): Promise<Secrets> {
  return requestSecrets(ctx.request, ctx.run.projectId, texts);
}
