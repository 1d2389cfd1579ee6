import { Catch, Logger, type Type } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import { z } from 'zod';

/**
 * What went wrong, in terms a client acts on. Every service's catalogue (its `errors.ts`) holds
 * these, because the shared helpers (pageArgs, idArgument, assertProjectExists ...) throw them.
 */
export const domainErrorCodeSchema = z.enum(['BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT', 'FORBIDDEN', 'UNAVAILABLE']);
export type DomainErrorCode = z.infer<typeof domainErrorCodeSchema>;
export const DOMAIN_ERROR_CODES = domainErrorCodeSchema.options;

/** The `extensions.code` a domain error reaches a client with (formatGraphQLError lets each through). */
export type GraphQLErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN' | 'SERVICE_UNAVAILABLE';

/** Ends an exhaustive `switch`: a case left out makes `value` not `never`, which fails the type check. */
export function assertUnreachable(value: never, what = 'value'): never {
  throw new Error(`unhandled ${what} ${JSON.stringify(value)}`);
}

export interface FieldProblem {
  /** Path of the offending input field, e.g. `input.url` or `stages[2].config.replicas`. */
  field: string;
  message: string;
}

/**
 * Thrown by domain code (never an HTTP exception). The message says what to do; `problems` lists
 * every bad field at once for BAD_USER_INPUT. `C` is a service's own code enum when it throws one
 * of its own codes (`new DomainError<ExecutionsErrorCode>('STATE_NOT_RECORDED', ...)`); without it
 * only the shared codes type-check (NoInfer: a misspelt code fails the build, it is not inferred).
 */
export class DomainError<C extends string = DomainErrorCode> extends Error {
  constructor(
    readonly code: NoInfer<C>,
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

/** The shared codes as GraphQL codes; a service's own mapping sends these cases here. */
export function sharedGraphQLCode(code: DomainErrorCode): GraphQLErrorCode {
  switch (code) {
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'FORBIDDEN':
      return code;
    case 'UNAVAILABLE':
      return 'SERVICE_UNAVAILABLE';
    default:
      return assertUnreachable(code, 'domain error code');
  }
}

/** One service's error codes and their GraphQL codes: the only place its domain errors become GraphQL errors. */
export interface ErrorCatalogue {
  readonly service: string;
  readonly codes: readonly string[];
  toGraphQLError(err: DomainError<string>): GraphQLError;
}

/**
 * A service's catalogue from its code enum and an exhaustive mapping (a `switch` ending in
 * assertUnreachable). The enum must hold every shared code, or this call fails the type check.
 * A code of the service's own travels as `extensions.reason` (unless the error sets a reason),
 * so a client can tell, e.g., two NOT_FOUNDs apart.
 */
export function errorCatalogue<C extends string>(
  service: string,
  codes: z.ZodEnum<[C, ...C[]]>,
  graphQLCode: (code: C) => GraphQLErrorCode,
  ..._mustHoldSharedCodes: [DomainErrorCode] extends [C] ? [] : [`the error codes lack ${Exclude<DomainErrorCode, C>}`]
): ErrorCatalogue {
  const shared = new Set<string>(DOMAIN_ERROR_CODES);
  return {
    service,
    codes: codes.options,
    toGraphQLError(err) {
      const parsed = codes.safeParse(err.code);
      // Only a cast gets here (the type check refuses other codes): the filter logs it as an internal error.
      if (!parsed.success) throw new Error(`DomainError code ${JSON.stringify(err.code)} is not one of the ${service} error codes (${codes.options.join(', ')}): ${err.message}`);
      const own = shared.has(parsed.data) ? {} : { reason: parsed.data };
      return new GraphQLError(err.message, { extensions: { ...own, ...err.details, code: graphQLCode(parsed.data) } });
    },
  };
}

/** The shared codes alone, for code with no service's catalogue at hand. */
export const sharedErrors = errorCatalogue('shared', domainErrorCodeSchema, sharedGraphQLCode);

export function toGraphQLError(err: DomainError<string>, catalogue: ErrorCatalogue = sharedErrors): GraphQLError {
  return catalogue.toGraphQLError(err);
}

/** The exception filter that turns a service's domain errors into GraphQL errors with its catalogue. */
export function domainErrorFilter(catalogue: ErrorCatalogue): Type<GqlExceptionFilter> {
  const log = new Logger('DomainError');
  @Catch(DomainError)
  class DomainErrorFilter implements GqlExceptionFilter {
    catch(err: DomainError<string>) {
      try {
        return catalogue.toGraphQLError(err);
      } catch (unmapped) {
        log.error((unmapped as Error).message);
        return new GraphQLError('internal error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      }
    }
  }
  Object.defineProperty(DomainErrorFilter, 'name', { value: `${catalogue.service}DomainErrorFilter` });
  return DomainErrorFilter;
}
