import { identitySchema, roleSchema, type Identity } from '@pipewright/contracts';
import { SignJWT, createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';

export type JwtVerifierOptions =
  | { secret: string; issuer?: string; audience?: string }
  | { jwksUrl: string; issuer?: string; audience?: string };

export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

export type JwtVerifier = (token: string) => Promise<Identity>;

/** Verifies a bearer token (HS256 with a shared secret, or any JWKS key) into an Identity. */
export function createJwtVerifier(opts: JwtVerifierOptions): JwtVerifier {
  const key: Uint8Array | JWTVerifyGetKey = 'secret' in opts ? new TextEncoder().encode(opts.secret) : createRemoteJWKSet(new URL(opts.jwksUrl));
  const algorithms = 'secret' in opts ? ['HS256'] : undefined;
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      const verified = await jwtVerify(token, key as Uint8Array, { algorithms, issuer: opts.issuer, audience: opts.audience });
      payload = verified.payload;
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new AuthenticationError('token expired');
      throw new AuthenticationError('invalid token');
    }
    const roles = (Array.isArray(payload.roles) ? payload.roles : []).filter((r) => roleSchema.safeParse(r).success);
    const parsed = identitySchema.safeParse({ sub: payload.sub, name: payload.name, roles });
    if (!parsed.success) throw new AuthenticationError('token has no subject (sub claim)');
    return parsed.data;
  };
}

/** Issues an HS256 token, for development (`npm run token`) and tests. */
export async function issueDevToken(identity: Identity, secret: string, ttlSeconds = 12 * 3600): Promise<string> {
  return new SignJWT({ name: identity.name, roles: identity.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(identity.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
