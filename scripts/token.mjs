#!/usr/bin/env node
// Prints a token the gateway accepts (and nothing else on stdout):
//   npm run token -- --sub alice [--roles ADMIN] [--name "Alice"] [--groups g1,g2] [--ttl 3600]
//   (--roles are platform roles: only ADMIN means anything; project roles come from memberships)
// With a development OpenID provider's key known it mints an RS256 JWT with that key (its kid,
// iss = its issuer, aud = its audience), so the gateway verifies it through the provider's JWKS.
// The key is looked up, first found wins:
//   1. OIDC_JWKS_FILE (with OIDC_ISSUER / OIDC_AUDIENCE, else the users.json beside the key)
//   2. the provider of `npm start` (.pipewright/oidc, or $PIPEWRIGHT_HOME/oidc)
//   3. the test environment's (deploy/testenv/.state/env: OIDC_JWKS_FILE, OIDC_ISSUER, OIDC_AUDIENCE)
// Without any (or with JWT_SECRET set and no OIDC_JWKS_FILE), an HS256 token signed with
// JWT_SECRET, else with the development secret of `npm start` (.pipewright/dev-secrets.json).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { devSecrets, oidcHome, root } from './dev-secrets.mjs';

const ROLES = ['VIEWER', 'DEVELOPER', 'ADMIN', 'APPROVAL_ADMIN'];
const fail = (msg, code = 2) => {
  console.error(msg);
  process.exit(code);
};

const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: 'developer' },
    name: { type: 'string' },
    roles: { type: 'string', multiple: true, default: [] },
    groups: { type: 'string', multiple: true },
    ttl: { type: 'string', default: String(12 * 3600) },
  },
});
const list = (v) => (v ?? []).flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean);
const roles = list(values.roles).map((r) => r.toUpperCase());
const unknown = roles.filter((r) => !ROLES.includes(r));
if (unknown.length) fail(`--roles: unknown role ${unknown.join(', ')}; use ${ROLES.join(', ')}`);
const groups = values.groups ? list(values.groups) : undefined;
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) fail(`--ttl must be a positive number of seconds (got "${values.ttl}")`);

function readEnvFile(file) {
  const out = {};
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return out;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The development providers whose key could sign the token, in order: { jwksFile, issuer, audience, from }. */
function devProviders() {
  const beside = (jwksFile) => readJson(join(dirname(jwksFile), 'users.json')) ?? {};
  const env = process.env;
  const out = [];
  if (env.OIDC_JWKS_FILE) {
    const meta = beside(env.OIDC_JWKS_FILE);
    out.push({ jwksFile: env.OIDC_JWKS_FILE, issuer: env.OIDC_ISSUER ?? meta.issuer, audience: env.OIDC_AUDIENCE ?? meta.audience, from: 'OIDC_JWKS_FILE' });
  }
  const started = join(oidcHome, 'jwks.json');
  if (existsSync(started)) {
    const meta = beside(started);
    out.push({ jwksFile: started, issuer: meta.issuer, audience: meta.audience, from: started });
  }
  const te = readEnvFile(join(root, 'deploy', 'testenv', '.state', 'env'));
  if (te.OIDC_JWKS_FILE && existsSync(te.OIDC_JWKS_FILE)) {
    out.push({ jwksFile: te.OIDC_JWKS_FILE, issuer: te.OIDC_ISSUER, audience: te.OIDC_AUDIENCE, from: 'deploy/testenv/.state/env' });
  }
  // With OIDC_ISSUER set, only that provider's key makes a token the gateway accepts.
  return env.OIDC_ISSUER ? out.filter((p) => p.issuer === env.OIDC_ISSUER) : out;
}

const name = values.name ?? values.sub;
const [dev] = process.env.JWT_SECRET && !process.env.OIDC_JWKS_FILE ? [] : devProviders();
if (!dev && process.env.OIDC_ISSUER && !process.env.JWT_SECRET) {
  fail(`OIDC_ISSUER=${process.env.OIDC_ISSUER} is not a development provider this script knows the key of: get a token from that provider (or set OIDC_JWKS_FILE)`, 1);
}
if (dev) {
  if (!dev.issuer) fail(`cannot tell the issuer of the key ${dev.jwksFile} (from ${dev.from}): set OIDC_ISSUER`);
  const jwks = readJson(dev.jwksFile);
  const jwk = jwks?.keys?.find((k) => k.d && (k.alg ?? 'RS256') === 'RS256') ?? jwks?.keys?.[0];
  if (!jwk?.d) fail(`${dev.jwksFile} holds no private RS256 key`, 1);
  const { SignJWT, importJWK } = await import('jose');
  const key = await importJWK(jwk, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ name, roles, ...(groups ? { groups } : {}) })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: jwk.kid })
    .setIssuer(dev.issuer)
    .setAudience(dev.audience ?? 'pipewright')
    .setSubject(values.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .sign(key);
  console.log(token);
} else {
  const secret = process.env.JWT_SECRET ?? devSecrets().JWT_SECRET;
  let issueDevToken;
  try {
    ({ issueDevToken } = createRequire(import.meta.url)('../libs/auth/dist/jwt.js'));
  } catch {
    fail('build first: npm run build', 1);
  }
  console.log(await issueDevToken({ sub: values.sub, name, roles, ...(groups ? { groups } : {}) }, secret, ttl));
}
