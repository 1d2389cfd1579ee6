import { z } from 'zod';
import { defineStage, stringMap } from './define-stage';
import { wholeNumber } from './kubernetes-stages';

export const webhookStage = defineStage({
  type: 'WEBHOOK',
  group: 'FEATURE',
  label: 'Webhook',
  description: 'Calls a URL; 2xx succeeds, a fail-fast status fails at once, other failures retry.',
  config: z
    .object({
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'], { errorMap: () => ({ message: 'must be GET, POST, PUT, PATCH, DELETE or HEAD' }) }).default('POST').describe('HTTP method.'),
      url: z
        .string({ required_error: 'is required (e.g. https://hooks.example.com/deploy)' })
        .refine((v) => /^\$\{.+\}/.test(v) || /^https?:\/\/[^/\s]+/.test(v), { message: 'must be an http(s):// URL (or an expression)' })
        .describe('Target URL; may hold expressions, and ${secrets.NAME} (filled in for the call only, masked in what is recorded).'),
      headers: stringMap.default({}).describe('Request headers; values may hold ${secrets.NAME}.'),
      body: z.union([z.string(), z.record(z.unknown()), z.array(z.unknown())]).optional().describe('Request body: text, or JSON; may hold ${secrets.NAME}.'),
      failFastStatusCodes: z.array(wholeNumber(100, 599)).default([]).describe('Statuses that fail the stage at once, without retries.'),
      timeoutSeconds: wholeNumber(1, 3600).default(30).describe('Timeout of one attempt.'),
    })
    .strict(),
  references: () => [],
});
