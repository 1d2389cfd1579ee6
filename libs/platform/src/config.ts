import { z } from 'zod';
import { parseOutboundAllow } from './outbound';

const urlWithScheme = (schemes: string[], example: string) =>
  z.string({ required_error: `is required (e.g. ${example})` }).refine(
    (v) => {
      try {
        return v.split(',').every((part) => schemes.includes(new URL(part.trim()).protocol));
      } catch {
        return false;
      }
    },
    { message: `must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL (e.g. ${example})` },
  );

export const postgresUrl = urlWithScheme(['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/pipewright_environments');
export const natsUrl = urlWithScheme(['nats:', 'tls:'], 'nats://127.0.0.1:4222');
export const port = z.coerce.number({ invalid_type_error: 'must be a port number' }).int().min(1).max(65535);

/** OUTBOUND_ALLOW: comma-separated CIDRs or host:port pairs that pipeline-controlled URLs may reach besides public addresses. */
export const outboundAllow = z
  .string()
  .default('')
  .transform((value, ctx) => {
    try {
      return parseOutboundAllow(value);
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message.replace(/^OUTBOUND_ALLOW /, '') });
      return z.NEVER;
    }
  });

/** Variables every service reads. Each service's config.ts extends this. */
export const serviceConfigSchema = z.object({
  PORT: port,
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: postgresUrl,
  /** Create the service's database at boot when it does not exist. */
  DATABASE_CREATE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  NATS_URL: natsUrl,
  NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "_" or "-"').default('pw'),
  /** The service's NATS user (default: its name) and password, as the generated nats-server configuration has them. */
  NATS_USER: z.string().regex(/^[a-z0-9_-]+$/, 'must be a NATS user name (lower-case letters, digits, "_" or "-")').optional(),
  NATS_PASSWORD: z.string({ required_error: "is required (this service's password in the generated nats-server configuration: deploy/nats/nats-config.cjs writes them to credentials.env)" }).min(1),
  /** Shared with the gateway: the HMAC key of the forwarded identity. */
  INTERNAL_SECRET: z.string({ required_error: 'is required (the secret shared with the gateway, 16+ characters)' }).min(16, 'must be at least 16 characters'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** What pipeline-controlled URLs may reach besides public addresses (see outbound.ts). */
  OUTBOUND_ALLOW: outboundAllow,
});
export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

/** Variables whose values never appear in an error message. */
const SECRET_NAME = /SECRET|PASSWORD|TOKEN|KEY/;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once into a frozen, typed config. Every problem is reported together,
 * each naming its variable, so a bad deployment fails at boot with one readable message.
 */
export function loadConfig<S extends z.ZodTypeAny>(schema: S, env: Record<string, string | undefined> = process.env): Readonly<z.infer<S>> {
  // A variable set to nothing (`OIDC_ISSUER=`, or Compose's `${OIDC_ISSUER:-}`) means unset.
  env = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '(environment)');
        const raw = env[name];
        const got = raw === undefined ? 'unset' : SECRET_NAME.test(name) ? 'a hidden value' : JSON.stringify(raw);
        return `${name} ${issue.message} (got ${got})`;
      }),
    );
  }
  return Object.freeze(result.data);
}
