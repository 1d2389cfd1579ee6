import { AuthenticationError, createJwtVerifier, type JwtVerifier } from '@pipewright/auth';
import { API_TOKEN_PREFIX, type Identity, type Role } from '@pipewright/contracts';
import type { MessageBus } from '@pipewright/messaging';
import { GraphQLError } from 'graphql';
import type { GatewayConfig } from './config';
import { grantsOf, parseGroupMapping, type GroupMapping } from './group-mapping';
import { MembershipCache } from './membership-cache';

export interface GatewayContext {
  identity: Identity;
}

/** OIDC_ISSUER (discovery) first; else a JWKS URL; else the HS256 development secret. */
export function verifierFor(c: GatewayConfig): JwtVerifier {
  const claims = { groupsClaim: c.OIDC_GROUPS_CLAIM, rolesClaim: c.OIDC_ROLES_CLAIM };
  const audience = (v: string | undefined) => (v ? v.split(',').map((a) => a.trim()).filter(Boolean) : undefined);
  if (c.OIDC_ISSUER) return createJwtVerifier({ issuer: c.OIDC_ISSUER, audience: audience(c.OIDC_AUDIENCE)!, ...claims });
  const common = { issuer: c.JWT_ISSUER, audience: audience(c.JWT_AUDIENCE), ...claims };
  return createJwtVerifier(c.JWT_JWKS_URL ? { jwksUrl: c.JWT_JWKS_URL, ...common } : { secret: c.JWT_SECRET!, ...common });
}

export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

function unavailable(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } } });
}

/** How long the gateway waits for the projects service to answer who a caller is. */
const PROJECTS_TIMEOUT_MS = 5000;

/**
 * Turns an Authorization header into the identity the gateway signs for the subgraphs: a JWT
 * (OpenID provider or development secret) with the caller's project memberships asked of the
 * projects service (merged with what the provider's groups grant; remembered by `memberships`
 * until they may have changed, see MembershipCache), or an API token (`pwt_...`), which is
 * exactly its one project and its roles.
 */
export class Authenticator {
  private readonly mapping: GroupMapping;
  readonly memberships: MembershipCache;

  constructor(
    private readonly verify: JwtVerifier,
    private readonly bus: () => MessageBus | null,
    config: Pick<GatewayConfig, 'OIDC_GROUP_MAPPING' | 'MEMBERSHIP_CACHE_MS'>,
  ) {
    this.mapping = parseGroupMapping(config.OIDC_GROUP_MAPPING);
    this.memberships = new MembershipCache(config.MEMBERSHIP_CACHE_MS);
  }

  async authenticate(header: string | undefined): Promise<Identity> {
    return (await this.authenticateUntil(header)).identity;
  }

  /** The identity, and when the credential stops being valid (seconds since the epoch; a JWT's exp). */
  async authenticateUntil(header: string | undefined): Promise<{ identity: Identity; expiresAt?: number }> {
    if (!header) throw unauthenticated('missing Authorization header: send "Authorization: Bearer <token>" (sign in, or use an API token; npm run token prints one for development)');
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match) throw unauthenticated('the Authorization header must be "Bearer <token>"');
    const token = match[1];
    return token.startsWith(API_TOKEN_PREFIX) ? { identity: await this.apiToken(token) } : this.jwt(token);
  }

  private requireBus(): MessageBus {
    const bus = this.bus();
    if (!bus) throw unavailable('the gateway is not connected to NATS yet; retry shortly');
    return bus;
  }

  private async apiToken(token: string): Promise<Identity> {
    let reply;
    try {
      reply = await this.requireBus().request('rpc.projects.api-token.verify', { token }, { timeoutMs: PROJECTS_TIMEOUT_MS });
    } catch (err) {
      if (err instanceof GraphQLError) throw err;
      throw unavailable(`cannot verify the API token: the projects service did not answer (${(err as Error).message}); retry shortly`);
    }
    if (!reply.valid) throw unauthenticated(`API token refused: ${reply.reason}`);
    return {
      sub: `api-token:${reply.tokenId}`,
      name: `API token "${reply.name}"`,
      roles: [],
      projects: [{ projectId: reply.projectId, slug: reply.slug, roles: reply.roles }],
      via: 'api-token',
      tokenId: reply.tokenId,
    };
  }

  private async jwt(token: string): Promise<{ identity: Identity; expiresAt?: number }> {
    let claims;
    try {
      claims = await this.verify(token);
    } catch (err) {
      throw unauthenticated(err instanceof AuthenticationError ? err.message : 'invalid token');
    }
    const { platformRoles, projectRoles } = grantsOf(this.mapping, claims.groups);
    const roles = [...new Set<Role>([...claims.roles, ...platformRoles])];
    let memberships;
    try {
      const ask = async () => (await this.requireBus().request('rpc.projects.memberships', { sub: claims.sub, groupRoles: projectRoles }, { timeoutMs: PROJECTS_TIMEOUT_MS })).memberships;
      memberships = await this.memberships.get(JSON.stringify([claims.sub, projectRoles]), ask);
    } catch (err) {
      if (err instanceof GraphQLError) throw err;
      throw unavailable(`cannot look up your project memberships: the projects service did not answer (${(err as Error).message}); retry shortly`);
    }
    return { identity: { sub: claims.sub, name: claims.name, roles, projects: memberships, via: 'oidc' }, expiresAt: claims.exp };
  }
}
