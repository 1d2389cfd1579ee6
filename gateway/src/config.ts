import { loadConfig, natsUrl, port } from '@pipewright/platform';
import { z } from 'zod';

const httpUrl = (example: string) =>
  z.string().refine((v) => /^https?:\/\/[^/]+/.test(v), { message: `must be an http(s):// URL (e.g. ${example})` });

export const configSchema = z
  .object({
    PORT: port.default(4000),
    HOST: z.string().default('0.0.0.0'),
    ENVIRONMENTS_URL: httpUrl('http://127.0.0.1:4101/graphql').default('http://127.0.0.1:4101/graphql'),
    PIPELINES_URL: httpUrl('http://127.0.0.1:4102/graphql').default('http://127.0.0.1:4102/graphql'),
    EXECUTIONS_URL: httpUrl('http://127.0.0.1:4103/graphql').default('http://127.0.0.1:4103/graphql'),
    BUILDS_URL: httpUrl('http://127.0.0.1:4104/graphql').default('http://127.0.0.1:4104/graphql'),
    /** A supergraph composed at build time; without it the gateway introspects the subgraphs. */
    SUPERGRAPH_PATH: z.string().optional(),
    /** How often introspection recomposes (development); 0 turns it off. */
    SCHEMA_POLL_MS: z.coerce.number().int().min(0).default(10_000),
    /** HS256 secret of the callers' tokens; or JWT_JWKS_URL for asymmetric keys. */
    JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    JWT_JWKS_URL: httpUrl('https://idp.example.com/.well-known/jwks.json').optional(),
    JWT_ISSUER: z.string().optional(),
    JWT_AUDIENCE: z.string().optional(),
    INTERNAL_SECRET: z.string({ required_error: 'is required (the secret shared with the subgraphs, 16+ characters)' }).min(16, 'must be at least 16 characters'),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** NATS, for subscriptions (runUpdated, runsUpdated); without it subscriptions answer unavailable. */
    NATS_URL: natsUrl.optional(),
    NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "_" or "-"').default('pw'),
  })
  .superRefine((c, ctx) => {
    if (!c.JWT_SECRET && !c.JWT_JWKS_URL) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['JWT_SECRET'], message: 'or JWT_JWKS_URL is required to verify callers' });
    }
  });
export type GatewayConfig = z.infer<typeof configSchema>;

export const loadGatewayConfig = (env: Record<string, string | undefined> = process.env) => loadConfig(configSchema, env);

export const SUBGRAPHS = ['environments', 'pipelines', 'executions', 'builds'] as const;

export function subgraphList(c: GatewayConfig) {
  return [
    { name: 'environments', url: c.ENVIRONMENTS_URL },
    { name: 'pipelines', url: c.PIPELINES_URL },
    { name: 'executions', url: c.EXECUTIONS_URL },
    { name: 'builds', url: c.BUILDS_URL },
  ];
}
