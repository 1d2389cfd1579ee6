import { assertUnreachable, DOMAIN_ERROR_CODES, errorCatalogue, sharedGraphQLCode, type GraphQLErrorCode } from '@pipewright/platform';
import { z } from 'zod';

/** Every code a builds error can carry: the shared ones (the platform's helpers throw them); the service has none of its own yet. */
export const buildsErrorCodeSchema = z.enum([...DOMAIN_ERROR_CODES]);
export type BuildsErrorCode = z.infer<typeof buildsErrorCodeSchema>;

/** The GraphQL code of each; a new code that is not mapped here fails the type check. */
export function buildsGraphQLCode(code: BuildsErrorCode): GraphQLErrorCode {
  switch (code) {
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'FORBIDDEN':
    case 'UNAVAILABLE':
      return sharedGraphQLCode(code);
    default:
      return assertUnreachable(code, 'builds error code');
  }
}

export const buildsErrors = errorCatalogue('builds', buildsErrorCodeSchema, buildsGraphQLCode);
