import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';

/** What went wrong, in terms a client acts on. Each maps to one GraphQL `extensions.code`. */
export type DomainErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN' | 'UNAVAILABLE';

export interface FieldProblem {
  /** Path of the offending input field, e.g. `input.url` or `stages[2].config.replicas`. */
  field: string;
  message: string;
}

/**
 * Thrown by domain code (never an HTTP exception). The message says what to do; `problems` lists
 * every bad field at once for BAD_USER_INPUT.
 */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: { problems?: FieldProblem[]; [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static badInput(problems: FieldProblem[]): DomainError {
    return new DomainError('BAD_USER_INPUT', problems.map((p) => `${p.field} ${p.message}`).join('; '), { problems, field: problems[0]?.field });
  }
}

function assertUnreachable(x: never): never {
  throw new Error(`unmapped domain error code ${String(x)}`);
}

/** The one place a domain error becomes a GraphQL error; a new code that is not mapped fails to build. */
export function toGraphQLError(err: DomainError): GraphQLError {
  const extensions = { ...err.details };
  switch (err.code) {
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'FORBIDDEN':
      return new GraphQLError(err.message, { extensions: { ...extensions, code: err.code } });
    case 'UNAVAILABLE':
      return new GraphQLError(err.message, { extensions: { ...extensions, code: 'SERVICE_UNAVAILABLE' } });
    default:
      return assertUnreachable(err.code);
  }
}

@Catch(DomainError)
export class DomainErrorFilter implements GqlExceptionFilter {
  catch(err: DomainError) {
    return toGraphQLError(err);
  }
}
