import { projectOrDefault } from '@pipewright/auth';
import type { ReplyOf } from '@pipewright/contracts';
import { QueryError } from '@pipewright/messaging';
import { requestSecrets, type Secrets } from '@pipewright/platform';
import { BuildFailure, type ExecutorContext } from './executor';

type Kind = 'source-repository' | 'build-tool' | 'image-registry' | 'chart-repository';
type Resolved<K extends Kind> = ReplyOf<`rpc.environments.${K}.resolve`>;

/** The fields of a resolved resource that hold a secret: masked in the build's log as soon as read. */
const SECRET_FIELDS = ['token', 'apiToken', 'password'] as const;

/**
 * An environment resource with its credentials, asked of the environments service for this build
 * (never cached past it), in the build's project: one of another project is refused. Its secrets
 * are masked in the log at once. A deleted (or refused) resource fails the build naming the config
 * `field` to fix.
 */
export async function resolveResource<K extends Kind>(ctx: ExecutorContext, kind: K, id: string, field: string): Promise<Resolved<K>> {
  const label = kind.replace('-', ' ');
  let resource: Resolved<K>;
  try {
    // The build's project is its command's (the default project for commands from before projects).
    const projectId = projectOrDefault(ctx.command.projectId);
    resource = (await ctx.request(`rpc.environments.${kind}.resolve` as `rpc.environments.${Kind}.resolve`, { id, projectId }, { timeoutMs: 5000 })) as Resolved<K>;
  } catch (err) {
    if (err instanceof QueryError && err.code === 'NOT_FOUND') throw new BuildFailure(`${label} ${id} does not exist any more: fix ${field} (the environments service said: ${err.message}; a build may only use its project's resources)`);
    throw new BuildFailure(`cannot read ${label} ${id}: the environments service did not answer (${(err as Error).message})`);
  }
  for (const f of SECRET_FIELDS) {
    const value = (resource as Record<string, unknown>)[f];
    if (typeof value === 'string') ctx.log.secret(value);
  }
  return resource;
}

/** A `${secrets.NAME}` the build's project has no secret for (the others: the service did not answer). */
export class SecretMissing extends BuildFailure {}

/**
 * The values of the secrets `texts` name (`${secrets.NAME}`), asked of the environments service in
 * the build's project, each masked in the build's log at once. A name the project has no secret for
 * fails the build (SecretMissing) naming the config `field` to fix.
 */
export async function resolveSecrets(ctx: ExecutorContext, field: string, ...texts: string[]): Promise<Secrets> {
  let secrets: Secrets;
  try {
    secrets = await requestSecrets(ctx.request, projectOrDefault(ctx.command.projectId), texts, 5000);
  } catch (err) {
    if (err instanceof QueryError && err.code === 'NOT_FOUND') throw new SecretMissing(`${field}: ${err.message}`);
    throw new BuildFailure(`cannot read the secrets ${field} names: the environments service did not answer (${(err as Error).message})`);
  }
  for (const value of secrets.values) ctx.log.secret(value);
  return secrets;
}
