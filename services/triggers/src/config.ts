import { SecretBox, serviceConfigSchema } from '@pipewright/platform';
import { z } from 'zod';

/** The triggers service's environment variables (validated at boot). */
export const configSchema = serviceConfigSchema.extend({
  /**
   * Keys that seal the triggers' secrets (webhook secrets, bearer tokens): `kid:base64key`, comma
   * separated, each 32 bytes; new secrets are sealed with the last one.
   */
  SECRETS_KEYS: z
    .string({ required_error: 'is required: keys that seal the triggers\' secrets, e.g. k1:$(openssl rand -base64 32)' })
    .superRefine((v, ctx) => {
      try {
        SecretBox.parseKeys(v);
      } catch (err) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
      }
    }),
  /** Where people and providers reach the gateway: hook URLs are `<PUBLIC_URL>/hooks/<trigger id>`. */
  PUBLIC_URL: z
    .string()
    .default('http://127.0.0.1:4000')
    .refine((v) => /^https?:\/\/[^/]+/.test(v), { message: 'must be an http(s):// URL (e.g. https://pipewright.example.com)' })
    .transform((v) => v.replace(/\/+$/, '')),
  /** Deliveries processed at once by this instance. */
  TRIGGER_WORKERS: z.coerce.number().int().min(1).max(64).default(4),
  /** The delivery queue's backstop sweep (a NOTIFY normally wakes it at once). */
  TRIGGER_SWEEP_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** A claimed delivery's lease; another instance takes it over when this one dies. */
  TRIGGER_LEASE_SECONDS: z.coerce.number().int().min(2).max(3600).default(30),
  /** How late a CRON time may be fired and still count as on time (beyond it, it was missed: the trigger's missedRuns policy applies). */
  CRON_MISFIRE_GRACE_MS: z.coerce.number().int().min(100).max(3_600_000).default(2_000),
  /** How often an instance that is not the leader (CRON, image polling) tries to become it. */
  LEADER_RETRY_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /** Deliveries older than this are deleted (0 keeps them). */
  TRIGGER_DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  /** The largest hook body stored; a bigger one is refused with 413. */
  HOOK_MAX_BYTES: z.coerce.number().int().min(1024).max(26_214_400).default(5 * 1024 * 1024),
});
export type Config = z.infer<typeof configSchema>;
export const TRIGGERS_CONFIG = Symbol('TRIGGERS_CONFIG');
