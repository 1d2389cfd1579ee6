import { assertUnreachable, DOMAIN_ERROR_CODES, DomainError, errorCatalogue, sharedGraphQLCode, type GraphQLErrorCode } from '@pipewright/platform';
import { z } from 'zod';

/**
 * Every code a executions error can carry: the shared ones (the platform's helpers throw them) and its own:
 * - STATE_NOT_RECORDED (NOT_FOUND): run(atSequence) for a state that is not kept.
 */
export const executionsErrorCodeSchema = z.enum([...DOMAIN_ERROR_CODES, 'STATE_NOT_RECORDED']);
export type ExecutionsErrorCode = z.infer<typeof executionsErrorCodeSchema>;

/** A domain error with one of this service's own codes (the shared ones need no more than DomainError). */
export class ExecutionsError extends DomainError<ExecutionsErrorCode> {}

/** The GraphQL code of each; a new code that is not mapped here fails the type check. */
export function executionsGraphQLCode(code: ExecutionsErrorCode): GraphQLErrorCode {
  switch (code) {
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'FORBIDDEN':
    case 'UNAVAILABLE':
      return sharedGraphQLCode(code);
    case 'STATE_NOT_RECORDED':
      return 'NOT_FOUND';
    default:
      return assertUnreachable(code, 'executions error code');
  }
}

export const executionsErrors = errorCatalogue('executions', executionsErrorCodeSchema, executionsGraphQLCode);
