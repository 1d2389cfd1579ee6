import { serviceConfigSchema } from '@pipewright/platform';
import { z } from 'zod';
import { SecretBox } from '@pipewright/platform';

/** The environments service's environment variables (validated at boot). */
export const configSchema = serviceConfigSchema
  .extend({
    /** Keys that seal credentials at rest: `kid:base64(32 bytes)`, comma-separated (old ones kept for rotation). */
    SECRETS_KEYS: z
      .string({ required_error: 'is required: "<key id>:<32 random bytes, base64>", e.g. k1:$(openssl rand -base64 32)' })
      .superRefine((v, ctx) => {
        try {
          SecretBox.parseKeys(v);
        } catch (err) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
        }
      }),
    /** The key id new secrets are sealed with; defaults to the last key in SECRETS_KEYS. */
    SECRETS_ACTIVE_KEY: z
      .string()
      .optional()
      .transform((v) => v?.trim() || undefined),
    /** How long a `test<Kind>` probe may take. */
    PROBE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** How long a delete waits for the pipelines service to say what references a resource. */
    REFERENCES_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  })
  .superRefine((c, ctx) => {
    if (c.SECRETS_ACTIVE_KEY && !c.SECRETS_KEYS.split(',').some((e) => e.trim().startsWith(`${c.SECRETS_ACTIVE_KEY}:`))) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['SECRETS_ACTIVE_KEY'], message: 'names a key id that is not in SECRETS_KEYS' });
    }
  });
export type Config = z.infer<typeof configSchema>;

export function secretBoxFrom(config: Pick<Config, 'SECRETS_KEYS' | 'SECRETS_ACTIVE_KEY'>): SecretBox {
  const keys = SecretBox.parseKeys(config.SECRETS_KEYS);
  return new SecretBox(keys, config.SECRETS_ACTIVE_KEY ?? [...keys.keys()].pop()!);
}
