import { importJWK, SignJWT, type JWK, type KeyLike } from 'jose';
import { readFileSync } from 'node:fs';
import type { TokenClaims, TokenMinter } from './platform';
import { testEnv } from './test-env';

/** Signs like the development provider does (its own key, issuer and audience), with claims of our choosing. */
export async function providerSigner() {
  const jwks = JSON.parse(readFileSync(testEnv('OIDC_JWKS_FILE'), 'utf8')) as { keys: (JWK & { kid: string })[] };
  const jwk = jwks.keys.find((k) => k.kty === 'RSA')!;
  const key = (await importJWK(jwk, 'RS256')) as KeyLike;
  return (claims: Record<string, unknown>, opts: { exp?: number | null; aud?: string; iss?: string; sub?: string } = {}) => {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
      .setIssuer(opts.iss ?? testEnv('OIDC_ISSUER'))
      .setAudience(opts.aud ?? testEnv('OIDC_AUDIENCE'))
      .setSubject(opts.sub ?? 'someone')
      .setIssuedAt();
    if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 600);
    return jwt.sign(key);
  };
}

/** A startPlatform `mint` for a gateway that trusts the development provider. */
export async function providerMinter(): Promise<TokenMinter> {
  const sign = await providerSigner();
  return (c: TokenClaims, ttl = 600) => sign({ name: c.name, roles: c.roles, groups: c.groups }, { sub: c.sub, exp: Math.floor(Date.now() / 1000) + ttl });
}

/** The development users and their passwords (deploy/testenv/up's provider). */
export function devUserPasswords(): Record<string, string> {
  return Object.fromEntries((JSON.parse(readFileSync(testEnv('OIDC_USERS_FILE'), 'utf8')) as { users: { username: string; password: string }[] }).users.map((u) => [u.username, u.password]));
}
