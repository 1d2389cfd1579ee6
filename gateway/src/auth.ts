import { AuthenticationError, createJwtVerifier, type JwtVerifier } from '@pipewright/auth';
import type { Identity } from '@pipewright/contracts';
import { GraphQLError } from 'graphql';
import type { GatewayConfig } from './config';

export interface GatewayContext {
  identity: Identity;
}

export function verifierFor(c: GatewayConfig): JwtVerifier {
  const common = { issuer: c.JWT_ISSUER, audience: c.JWT_AUDIENCE };
  return createJwtVerifier(c.JWT_JWKS_URL ? { jwksUrl: c.JWT_JWKS_URL, ...common } : { secret: c.JWT_SECRET!, ...common });
}

export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

/** Reads `Bearer <jwt>` and verifies it; every failure is UNAUTHENTICATED and says which. */
export async function authenticate(verify: JwtVerifier, header: string | undefined): Promise<Identity> {
  if (!header) throw unauthenticated('missing Authorization header: send "Authorization: Bearer <token>" (npm run token prints one for development)');
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match) throw unauthenticated('the Authorization header must be "Bearer <token>"');
  try {
    return await verify(match[1]);
  } catch (err) {
    throw unauthenticated(err instanceof AuthenticationError ? err.message : 'invalid token');
  }
}
