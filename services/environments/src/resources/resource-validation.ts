import { DomainError, type FieldProblem } from '@pipewright/platform';
import type { z } from 'zod';

const path = (parts: (string | number)[]) =>
  parts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${p}`), 'input');

/** Validates input with a kind's schema; every problem names its field (`input.url`). */
export function validateInput<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems: FieldProblem[] = result.error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'invalid_type' && (issue.received === 'undefined' || issue.received === 'null')) message = message.startsWith('is required') ? message : 'is required';
    return { field: path(issue.path), message };
  });
  throw DomainError.badInput(problems);
}
