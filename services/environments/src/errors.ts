import { assertUnreachable, DOMAIN_ERROR_CODES, DomainError, errorCatalogue, sharedGraphQLCode, type GraphQLErrorCode } from '@pipewright/platform';
import { z } from 'zod';

/**
 * Every code a environments error can carry: the shared ones (the platform's helpers throw them) and its own:
 * - NAME_TAKEN (CONFLICT): another resource of this kind in the project has this name;
 * - RESOURCE_IN_USE (CONFLICT): delete<Kind> while pipelines use it (without force).
 */
export const environmentsErrorCodeSchema = z.enum([...DOMAIN_ERROR_CODES, 'NAME_TAKEN', 'RESOURCE_IN_USE']);
export type EnvironmentsErrorCode = z.infer<typeof environmentsErrorCodeSchema>;

/** A domain error with one of this service's own codes (the shared ones need no more than DomainError). */
export class EnvironmentsError extends DomainError<EnvironmentsErrorCode> {}

/** The GraphQL code of each; a new code that is not mapped here fails the type check. */
export function environmentsGraphQLCode(code: EnvironmentsErrorCode): GraphQLErrorCode {
  switch (code) {
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'FORBIDDEN':
    case 'UNAVAILABLE':
      return sharedGraphQLCode(code);
    case 'NAME_TAKEN':
    case 'RESOURCE_IN_USE':
      return 'CONFLICT';
    default:
      return assertUnreachable(code, 'environments error code');
  }
}

export const environmentsErrors = errorCatalogue('environments', environmentsErrorCodeSchema, environmentsGraphQLCode);
