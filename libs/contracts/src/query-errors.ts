import { z } from 'zod';

/**
 * What a NATS query (request/reply) can answer instead of its reply, so a requester can tell the
 * cases apart without reading messages:
 * - NOT_FOUND: the thing asked about does not exist, or is another project's (never told apart);
 * - BAD_REQUEST: the request failed its subject's schema (a caller's bug, asking again won't help);
 * - INTERNAL: the responder failed; the details are in its log;
 * - BAD_REPLY: set by the requester when the answer is not a reply envelope or its code is none of these.
 */
export const queryErrorCodeSchema = z.enum(['NOT_FOUND', 'BAD_REQUEST', 'INTERNAL', 'BAD_REPLY']);
export type QueryErrorCode = z.infer<typeof queryErrorCodeSchema>;
export const QUERY_ERROR_CODES = queryErrorCodeSchema.options;

/** The error half of a query's reply envelope `{ ok: false, error }`. */
export const queryErrorSchema = z.object({ code: queryErrorCodeSchema, message: z.string() });
export type QueryErrorBody = z.infer<typeof queryErrorSchema>;
