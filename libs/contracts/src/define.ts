import { z } from 'zod';

/**
 * How a subject travels (ARCHITECTURE section 4):
 * - event: past tense, JetStream `<PREFIX>_EVENTS`, fan-out to durable consumers.
 * - command: to one owner, JetStream work queue `<PREFIX>_COMMANDS`, explicit ack.
 * - query: core NATS request/reply with a queue group per service.
 * - live: core NATS fire-and-forget (the database is the record).
 */
export type SubjectKind = 'event' | 'command' | 'query' | 'live';

export interface MessageDefinition<K extends SubjectKind, P extends z.ZodTypeAny, R extends z.ZodTypeAny = z.ZodNever> {
  readonly kind: K;
  readonly payload: P;
  readonly reply: R;
}

export const event = <P extends z.ZodTypeAny>(payload: P): MessageDefinition<'event', P> => ({
  kind: 'event',
  payload,
  reply: z.never(),
});

export const command = <P extends z.ZodTypeAny>(payload: P): MessageDefinition<'command', P> => ({
  kind: 'command',
  payload,
  reply: z.never(),
});

export const query = <P extends z.ZodTypeAny, R extends z.ZodTypeAny>(payload: P, reply: R): MessageDefinition<'query', P, R> => ({
  kind: 'query',
  payload,
  reply,
});

export const live = <P extends z.ZodTypeAny>(payload: P): MessageDefinition<'live', P> => ({
  kind: 'live',
  payload,
  reply: z.never(),
});
