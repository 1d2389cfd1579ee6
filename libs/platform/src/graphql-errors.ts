import type { GraphQLFormattedError } from 'graphql';

/** Codes a client may act on; anything else is reported as INTERNAL_SERVER_ERROR with no detail. */
const PUBLIC_CODES = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'SERVICE_UNAVAILABLE',
  'PERSISTED_QUERY_NOT_FOUND',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * Keeps the message and code of expected errors and hides everything else, so no stack, SQL or
 * secret reaches a client. The hidden error is logged by the caller.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, log?: (e: GraphQLFormattedError) => void): GraphQLFormattedError {
  const code = String(formatted.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
  if (PUBLIC_CODES.has(code)) {
    const { stacktrace: _s, exception: _e, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
    return { ...formatted, extensions: { ...extensions, code } };
  }
  log?.(formatted);
  return { message: 'internal error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
