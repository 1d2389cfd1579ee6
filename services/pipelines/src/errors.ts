import { assertUnreachable, DOMAIN_ERROR_CODES, DomainError, errorCatalogue, sharedGraphQLCode, type GraphQLErrorCode } from '@pipewright/platform';
import { z } from 'zod';

/**
 * Every code a pipelines error can carry: the shared ones (the platform's helpers throw them) and its own:
 * - NAME_TAKEN (CONFLICT): another pipeline of the project has this name;
 * - REVISION_MOVED (CONFLICT): the pipeline moved past expectedRevision;
 * - PIPELINE_IN_USE (CONFLICT): deletePipeline while Run Pipeline stages of others start it.
 */
export const pipelinesErrorCodeSchema = z.enum([...DOMAIN_ERROR_CODES, 'NAME_TAKEN', 'REVISION_MOVED', 'PIPELINE_IN_USE']);
export type PipelinesErrorCode = z.infer<typeof pipelinesErrorCodeSchema>;

/** A domain error with one of this service's own codes (the shared ones need no more than DomainError). */
export class PipelinesError extends DomainError<PipelinesErrorCode> {}

/** The GraphQL code of each; a new code that is not mapped here fails the type check. */
export function pipelinesGraphQLCode(code: PipelinesErrorCode): GraphQLErrorCode {
  switch (code) {
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'FORBIDDEN':
    case 'UNAVAILABLE':
      return sharedGraphQLCode(code);
    case 'NAME_TAKEN':
    case 'REVISION_MOVED':
    case 'PIPELINE_IN_USE':
      return 'CONFLICT';
    default:
      return assertUnreachable(code, 'pipelines error code');
  }
}

export const pipelinesErrors = errorCatalogue('pipelines', pipelinesErrorCodeSchema, pipelinesGraphQLCode);
