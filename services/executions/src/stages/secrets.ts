import { NO_SECRETS, secretNames, secretsFrom, type Secrets } from '@pipewright/platform';
import type { StageContext } from './stage-type';

export type { Secrets } from '@pipewright/platform';

/** Asks the environments service for the values of the secrets `texts` name, in the run's project. */
export async function resolveSecrets(ctx: Pick<StageContext, 'request' | 'run'>, ...texts: (string | undefined)[]): Promise<Secrets> {
  const names = secretNames(...texts);
  if (!names.length) return NO_SECRETS;
  const { values } = await ctx.request('rpc.environments.secret.values', { projectId: ctx.run.projectId, names });
  return secretsFrom(values);
}
