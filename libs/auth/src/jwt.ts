import { roleSchema, type Role } from '@pipewright/contracts';
import { SignJWT, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/**
 * How bearer JWTs are verified:
 * - `issuer` (OpenID Connect): keys from the issuer's discovery document (`jwks_uri`), `iss`,
 *   `aud` and `exp` required;
 * - `jwksUrl`: keys from a JWKS URL, optional issuer/audience;
 * - `secret`: HS256 with a shared development secret (only when no issuer is configured).
 */
export type JwtVerifierOptions = (
  | { issuer: string; audience: string | string[]; discovery?: true }
  | { jwksUrl: string; issuer?: string; audience?: string | string[] }
  | { secret: string; issuer?: string; audience?: string | string[] }
) & {
  /** The claim holding the caller's groups (default `groups`). */
  groupsClaim?: string;
  /** The claim holding platform roles (default `roles`). */
  rolesClaim?: string;
};

export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/** What a verified token says about its bearer. */
export interface VerifiedToken {
  sub: string;
  name?: string;
  /** Platform roles from the roles claim (only ADMIN grants anything platform-wide). */
  roles: Role[];
  /** Groups from the groups claim, for the gateway's group mapping. */
  groups: string[];
  /** When the token expires (seconds since the epoch). */
  exp?: number;
}

export type JwtVerifier = (token: string) => Promise<VerifiedToken>;

/** Finds the issuer's `jwks_uri` (OpenID Connect Discovery 1.0); retried on the next token when it fails. */
function discoveredKeys(issuer: string): JWTVerifyGetKey {
  let keys: Promise<JWTVerifyGetKey> | null = null;
  const load = async () => {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    const doc = (await res.json()) as { issuer?: string; jwks_uri?: string };
    if (!doc.jwks_uri) throw new Error(`${url} names no jwks_uri`);
    if (doc.issuer && doc.issuer !== issuer) throw new Error(`${url} says its issuer is ${doc.issuer}, not ${issuer}`);
    return createRemoteJWKSet(new URL(doc.jwks_uri));
  };
  return async (header, token) => {
    keys ??= load().catch((err) => {
      keys = null;
      throw new AuthenticationError(`cannot reach the identity provider ${issuer}: ${(err as Error).message}`);
    });
    return (await keys)(header, token);
  };
}

function stringList(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : [];
}

function claimMessage(err: InstanceType<typeof errors.JWTClaimValidationFailed>, opts: JwtVerifierOptions): string {
  switch (err.claim) {
    case 'iss':
      return `token issuer is not accepted${opts.issuer ? ` (expected ${opts.issuer})` : ''}`;
    case 'aud':
      return `token audience is not accepted${opts.audience ? ` (expected ${[opts.audience].flat().join(' or ')})` : ''}`;
    case 'exp':
      return err.reason === 'missing' ? 'token has no expiry (exp claim): tokens must expire' : 'token expired';
    default:
      return `token claim ${err.claim} is ${err.reason === 'missing' ? 'missing' : 'invalid'}`;
  }
}

/** Verifies a bearer token into what it says of its bearer; every failure is an AuthenticationError saying which. */
export function createJwtVerifier(opts: JwtVerifierOptions): JwtVerifier {
  const key: Uint8Array | JWTVerifyGetKey =
    'secret' in opts ? new TextEncoder().encode(opts.secret) : 'jwksUrl' in opts ? createRemoteJWKSet(new URL(opts.jwksUrl)) : discoveredKeys(opts.issuer);
  // Asymmetric keys only for a provider or a JWKS, so a shared-secret (HS*) or unsigned token is never a way in.
  const algorithms = 'secret' in opts ? ['HS256'] : ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
  const requiredClaims = 'secret' in opts || 'jwksUrl' in opts ? ['exp'] : ['exp', 'iss', 'aud'];
  const groupsClaim = opts.groupsClaim ?? 'groups';
  const rolesClaim = opts.rolesClaim ?? 'roles';
  return async (token) => {
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(token, key as Uint8Array, { algorithms, issuer: opts.issuer, audience: opts.audience, requiredClaims });
      payload = verified.payload;
    } catch (err) {
      if (err instanceof AuthenticationError) throw err;
      if (err instanceof errors.JWTExpired) throw new AuthenticationError('token expired');
      if (err instanceof errors.JWTClaimValidationFailed) throw new AuthenticationError(claimMessage(err, opts));
      throw new AuthenticationError('invalid token');
    }
    if (typeof payload.sub !== 'string' || !payload.sub) throw new AuthenticationError('token has no subject (sub claim)');
    const roles = stringList(payload[rolesClaim]).filter((r): r is Role => roleSchema.safeParse(r).success);
    const name = typeof payload.name === 'string' ? payload.name : typeof payload.preferred_username === 'string' ? payload.preferred_username : undefined;
    return { sub: payload.sub, name, roles, groups: stringList(payload[groupsClaim]), exp: payload.exp };
  };
}

/** Issues an HS256 token, for development (`npm run token` without an issuer) and tests. */
export async function issueDevToken(identity: { sub: string; name?: string; roles: Role[]; groups?: string[] }, secret: string, ttlSeconds = 12 * 3600): Promise<string> {
  return new SignJWT({ name: identity.name, roles: identity.roles, ...(identity.groups ? { groups: identity.groups } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(identity.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
