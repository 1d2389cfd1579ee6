import { assertUnreachable, DOMAIN_ERROR_CODES, DomainError, errorCatalogue, sharedGraphQLCode, type GraphQLErrorCode } from '@pipewright/platform';
import { z } from 'zod';

/** Every code a triggers error can carry: the shared ones (the platform's helpers throw them); the service has none of its own yet. */
export const triggersErrorCodeSchema = z.enum([...DOMAIN_ERROR_CODES]);
export type TriggersErrorCode = z.infer<typeof triggersErrorCodeSchema>;

/** The GraphQL code of each; a new code that is not mapped here fails the type check. */
export function triggersGraphQLCode(code: TriggersErrorCode): GraphQLErrorCode {
  switch (code) {
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'FORBIDDEN':
    case 'UNAVAILABLE':
      return sharedGraphQLCode(code);
    default:
      return assertUnreachable(code, 'triggers error code');
  }
}

export const triggersErrors = errorCatalogue('triggers', triggersErrorCodeSchema, triggersGraphQLCode);

/** A domain error of the triggers service (its codes are the shared ones). */
export class TriggersError extends DomainError<TriggersErrorCode> {}
