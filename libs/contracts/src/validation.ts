import type { z } from 'zod';

/** A payload that does not match its subject's schema; the message names every bad field. */
export class MessageValidationError extends Error {
  constructor(
    readonly subject: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`invalid payload for ${subject}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'MessageValidationError';
  }
}

export function formatPath(path: (string | number)[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

/** Parses `value` with `schema`, throwing a MessageValidationError that names each failing field. */
export function parseMessage<T extends z.ZodTypeAny>(subject: string, schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new MessageValidationError(
      subject,
      result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    );
  }
  return result.data;
}

/** Whether a string is a UUID (ids of resources, pipelines and runs); lets callers answer "not found" without asking PostgreSQL to cast. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
