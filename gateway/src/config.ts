import { loadConfig, natsUrl, port } from '@pipewright/platform';
import { z } from 'zod';
import { parseGroupMapping } from './group-mapping';

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
    PROJECTS_URL: httpUrl('http://127.0.0.1:4105/graphql').default('http://127.0.0.1:4105/graphql'),
    /** The triggers subgraph; its /hooks/* also take the deliveries the gateway's /hooks/* forwards. */
    TRIGGERS_URL: httpUrl('http://127.0.0.1:4106/graphql').default('http://127.0.0.1:4106/graphql'),
    /** A supergraph composed at build time; without it the gateway introspects the subgraphs. */
    SUPERGRAPH_PATH: z.string().optional(),
    /** How often introspection recomposes (development); 0 turns it off. */
    SCHEMA_POLL_MS: z.coerce.number().int().min(0).default(10_000),
    /** How long the gateway waits for a subgraph's answer (the connection quiet that long) before the request fails. */
    SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(1000).default(300_000),
    /** How long a caller's project memberships are reused at most (dropped at once on any change the gateway hears of); 0 asks on every request. */
    MEMBERSHIP_CACHE_MS: z.coerce.number().int().min(0).default(10_000),
    /** Requests (HTTP requests and WebSocket operations) per second per caller, sustained, and the burst above it; 0 turns the limit off. */
    RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).default(100),
    RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(300),
    /** The same per client address, whatever tokens it presents (many callers may share one); 0 turns it off. */
    RATE_LIMIT_PER_ADDRESS_PER_SECOND: z.coerce.number().min(0).default(1000),
    RATE_LIMIT_PER_ADDRESS_BURST: z.coerce.number().int().min(1).default(3000),
    /**
     * How many proxies in front of the gateway (an ingress: 1) to believe about the client's address:
     * it is then the X-Forwarded-For entry that many hops back. 0: the connection's own address.
     */
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).default(0),
    /** The deepest field nesting and the most fields an operation may select; 0 turns either check off. */
    MAX_QUERY_DEPTH: z.coerce.number().int().min(0).default(20),
    MAX_QUERY_COST: z.coerce.number().int().min(0).default(5000),
    /** The largest HTTP request body and WebSocket message, in bytes. */
    MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).default(4 * 1024 * 1024),
    /** Operations (subscriptions among them) one WebSocket connection may have open at once. */
    MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(100),
    /** The OpenID provider whose ID/access tokens sign people in (discovery + JWKS); iss, aud and exp are required. */
    OIDC_ISSUER: httpUrl('https://keycloak.example.com/realms/pipewright').optional(),
    /** The audience (or comma-separated audiences) tokens must carry: the API's resource id or the client id. */
    OIDC_AUDIENCE: z.string().min(1, 'must not be empty').optional(),
    /** The claim with the caller's groups (mapped by OIDC_GROUP_MAPPING) and the one with platform roles. */
    OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
    OIDC_ROLES_CLAIM: z.string().min(1).default('roles'),
    /** `group=ADMIN` or `group=<project slug>:ROLE[+ROLE]`, comma-separated (see README). */
    OIDC_GROUP_MAPPING: z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        try {
          parseGroupMapping(v);
        } catch (err) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
        }
      }),
    /** Development only, and only without OIDC_ISSUER: the HS256 secret of `npm run token`; or JWT_JWKS_URL for asymmetric keys. */
    JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    JWT_JWKS_URL: httpUrl('https://idp.example.com/.well-known/jwks.json').optional(),
    JWT_ISSUER: z.string().optional(),
    JWT_AUDIENCE: z.string().optional(),
    INTERNAL_SECRET: z.string({ required_error: 'is required (the secret shared with the subgraphs, 16+ characters)' }).min(16, 'must be at least 16 characters'),
    /** The built console to serve at `/` (default: console/dist of this checkout). */
    CONSOLE_DIR: z.string().min(1).optional(),
    /** The provider the console signs people in at (default OIDC_ISSUER), its public client (code + PKCE) and the scopes it asks for. */
    CONSOLE_OIDC_ISSUER: httpUrl('https://keycloak.example.com/realms/pipewright').optional(),
    CONSOLE_OIDC_CLIENT_ID: z.string().min(1).default('pipewright-console'),
    CONSOLE_OIDC_SCOPE: z.string().min(1).default('openid profile offline_access groups'),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** NATS: project memberships and API tokens are asked of the projects service over it; subscriptions are fed from it. */
    NATS_URL: natsUrl,
    NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "_" or "-"').default('pw'),
    /** The gateway's NATS user and password, as the generated nats-server configuration has them. */
    NATS_USER: z.string().regex(/^[a-z0-9_-]+$/, 'must be a NATS user name (lower-case letters, digits, "_" or "-")').default('gateway'),
    NATS_PASSWORD: z.string({ required_error: "is required (the gateway's password in the generated nats-server configuration: deploy/nats/nats-config.cjs writes them to credentials.env)" }).min(1),
  })
  .superRefine((c, ctx) => {
    if (c.OIDC_ISSUER && !c.OIDC_AUDIENCE) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['OIDC_AUDIENCE'], message: 'is required with OIDC_ISSUER (the audience the provider puts in tokens for Pipewright, e.g. pipewright)' });
    }
    if (!c.OIDC_ISSUER && !c.JWT_SECRET && !c.JWT_JWKS_URL) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['OIDC_ISSUER'], message: 'is required to verify callers (or, for development, JWT_SECRET or JWT_JWKS_URL)' });
    }
  });
export type GatewayConfig = z.infer<typeof configSchema>;

export const loadGatewayConfig = (env: Record<string, string | undefined> = process.env) => loadConfig(configSchema, env);

export const SUBGRAPHS = ['projects', 'environments', 'pipelines', 'executions', 'builds', 'triggers'] as const;

export function subgraphList(c: GatewayConfig) {
  return [
    { name: 'projects', url: c.PROJECTS_URL },
    { name: 'environments', url: c.ENVIRONMENTS_URL },
    { name: 'pipelines', url: c.PIPELINES_URL },
    { name: 'executions', url: c.EXECUTIONS_URL },
    { name: 'builds', url: c.BUILDS_URL },
    { name: 'triggers', url: c.TRIGGERS_URL },
  ];
}
