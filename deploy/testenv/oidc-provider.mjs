#!/usr/bin/env node
// A real OpenID provider for development and tests, on 127.0.0.1 only: the npm package
// `oidc-provider` (8.x) with users, clients, keys and simple login pages of its own.
// Started by `npm start` and `deploy/testenv/up`; see deploy/testenv/README.md.
//
//   OIDC_PORT           port (default 14180); the issuer is http://127.0.0.1:<port>
//   OIDC_STATE_DIR      where the signing key (jwks.json), the users and client secrets (users.json)
//                       and the cookie keys (cookie-keys.json) persist (default .pipewright/oidc)
//   OIDC_AUDIENCE       `aud` of every access token (default pipewright)
//   OIDC_REDIRECT_URIS  the console client's redirect URIs, comma-separated
//                       (default http://127.0.0.1:4000/auth/callback,http://localhost:4000/auth/callback)
//   OIDC_USERS_FILE     also write the users, their passwords and the clients here
//
// Users: admin (roles ["ADMIN"]), developer, approver, viewer; passwords generated once.
// Clients: pipewright-console (public, code + PKCE S256), pipewright-cli (public, device flow),
// pipewright-ci (confidential, client credentials). Access tokens are RS256 JWTs with
// aud = OIDC_AUDIENCE for every grant, carrying name, preferred_username, roles and groups.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';

const log = (msg) => console.error(`[oidc-provider] ${msg}`);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// ------------------------------------------------------------------------------ settings

const PORT = Number(process.env.OIDC_PORT ?? 14180);
if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535) {
  log(`OIDC_PORT must be a port number (got "${process.env.OIDC_PORT}")`);
  process.exit(2);
}
const ISSUER = `http://127.0.0.1:${PORT}`;
const STATE_DIR = resolve(process.env.OIDC_STATE_DIR || join(repoRoot, '.pipewright', 'oidc'));
const AUDIENCE = process.env.OIDC_AUDIENCE || 'pipewright';
const REDIRECT_URIS = (process.env.OIDC_REDIRECT_URIS || 'http://127.0.0.1:4000/auth/callback,http://localhost:4000/auth/callback')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const uri of REDIRECT_URIS) {
  if (!URL.canParse(uri) || !/^https?:$/.test(new URL(uri).protocol)) {
    log(`OIDC_REDIRECT_URIS: "${uri}" is not an http(s) URL`);
    process.exit(2);
  }
}
/** http://127.0.0.1:<any port> or http://localhost:<any port>: where a development console may run. */
function loopbackOrigin(origin) {
  if (!origin || !URL.canParse(origin)) return false;
  const u = new URL(origin);
  return u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost');
}
const USERS_FILE = process.env.OIDC_USERS_FILE ? resolve(process.env.OIDC_USERS_FILE) : undefined;
/** The resource indicator (RFC 8707) of the Pipewright API; must be an absolute URI, unlike the audience. */
const RESOURCE = /^[a-z][a-z0-9+.-]*:/i.test(AUDIENCE) && URL.canParse(AUDIENCE) ? AUDIENCE : 'urn:pipewright:api';
const ACCESS_TOKEN_TTL = 3600;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const USER_DEFS = [
  { username: 'admin', name: 'Admin', roles: ['ADMIN'] },
  { username: 'developer', name: 'Developer' },
  { username: 'approver', name: 'Approver' },
  { username: 'viewer', name: 'Viewer' },
];
const CLIENT_IDS = { console: 'pipewright-console', cli: 'pipewright-cli', ci: 'pipewright-ci' };

// --------------------------------------------------------------------------------- state

function readJson(file) {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${err.message}); delete it to start over`);
  }
}

function writeJson(file, value) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

const secret = (bytes = 18) => randomBytes(bytes).toString('base64url');

/** The RS256 signing key: generated once, kept as a private JWKS so tokens survive restarts. */
async function signingKeys() {
  const file = join(STATE_DIR, 'jwks.json');
  const existing = readJson(file);
  if (existing?.keys?.length) return existing;
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  const jwks = { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] };
  writeJson(file, jwks);
  log(`generated the signing key ${kid} (${file})`);
  return jwks;
}

/** Users, passwords and the CI client's secret: generated once, rewritten with the current settings. */
function accounts() {
  const file = join(STATE_DIR, 'users.json');
  const before = readJson(file) ?? {};
  const known = new Map((before.users ?? []).map((u) => [u.username, u]));
  const users = USER_DEFS.map((d) => ({
    username: d.username,
    password: known.get(d.username)?.password || secret(),
    name: d.name,
    ...(d.roles ? { roles: d.roles } : {}),
  }));
  const state = {
    issuer: ISSUER,
    audience: AUDIENCE,
    resource: RESOURCE,
    users,
    clients: {
      console: { clientId: CLIENT_IDS.console, redirectUris: REDIRECT_URIS, grants: ['authorization_code (PKCE S256)', 'refresh_token'] },
      cli: { clientId: CLIENT_IDS.cli, grants: [DEVICE_GRANT, 'refresh_token'] },
      ci: { clientId: CLIENT_IDS.ci, clientSecret: before.clients?.ci?.clientSecret || secret(32), grants: ['client_credentials'] },
    },
  };
  writeJson(file, state);
  if (USERS_FILE && USERS_FILE !== file) writeJson(USERS_FILE, state);
  return state;
}

function cookieKeys() {
  const file = join(STATE_DIR, 'cookie-keys.json');
  const existing = readJson(file);
  if (Array.isArray(existing) && existing.length) return existing;
  const keys = [secret(32)];
  writeJson(file, keys);
  return keys;
}

// ---------------------------------------------------------------------------------- html

const esc = (v) =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:40px 16px;color:#172b4d}
main{max-width:340px;margin:0 auto;background:#fff;border-radius:6px;padding:24px 28px;box-shadow:0 1px 3px rgba(0,0,0,.2)}
h1{font-size:1.4em;margin:0 0 16px}label{display:block;font-weight:600;margin:12px 0 4px}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:8px;font-size:1em;border:1px solid #c1c7d0;border-radius:4px}
button{margin-top:18px;width:100%;padding:9px;font-size:1em;border:0;border-radius:4px;background:#0052cc;color:#fff;cursor:pointer}
button.secondary{background:none;color:#5e6c84;margin-top:8px}.error{color:#bf2600;font-weight:600}
code{font-size:1.3em;letter-spacing:.1em}small{color:#5e6c84}`;

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Pipewright (development sign-in)</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
${body}
<p><small>Pipewright development OpenID provider (${esc(ISSUER)})</small></p>
</main>
</body>
</html>`;
}

function loginPage(uid, clientName, { username = '', error } = {}) {
  return page(
    'Sign in',
    `<p>to <strong>${esc(clientName)}</strong></p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${esc(username)}" autofocus required autocapitalize="none">
<label for="password">Password</label>
<input type="password" id="password" name="password" required>
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit" class="secondary">Cancel</button></form>`,
  );
}

function consentPage(uid, clientName, details) {
  const scopes = [...(details.missingOIDCScope ?? []), ...Object.values(details.missingResourceScopes ?? {}).flat()];
  return page(
    'Authorize',
    `<p><strong>${esc(clientName)}</strong> asks for access${scopes.length ? ` to: ${esc(scopes.join(', '))}` : ''}.</p>
<form method="post" action="/interaction/${esc(uid)}/confirm"><button type="submit">Continue</button></form>
<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit" class="secondary">Cancel</button></form>`,
  );
}

// ------------------------------------------------------------------------------- storage

/**
 * Sessions, interactions, grants, codes and refresh tokens: in memory (a restart signs everyone
 * out; access tokens are JWTs and stay valid), expired entries swept. Unlike the package's own
 * development adapter this one has no size limit, so busy test runs never evict a flow in progress.
 */
const store = new Map(); // key -> { value, exp (ms) }
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
const now = () => Date.now();
const get = (key) => {
  const e = store.get(key);
  if (!e) return undefined;
  if (e.exp <= now()) {
    store.delete(key);
    return undefined;
  }
  return e.value;
};
const put = (key, value, expiresInSec) => store.set(key, { value, exp: now() + (expiresInSec ?? 14 * 24 * 3600) * 1000 });
setInterval(() => {
  const t = now();
  for (const [k, e] of store) if (e.exp <= t) store.delete(k);
}, 60_000).unref();

class MemoryStore {
  constructor(model) {
    this.model = model;
  }
  key(id) {
    return `${this.model}:${id}`;
  }
  async upsert(id, payload, expiresIn) {
    if (this.model === 'Session') put(`sessionUid:${payload.uid}`, id, expiresIn);
    if (payload.userCode) put(`userCode:${payload.userCode}`, id, expiresIn);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const keys = get(`grant:${payload.grantId}`) ?? [];
      keys.push(this.key(id));
      put(`grant:${payload.grantId}`, keys, 14 * 24 * 3600);
    }
    put(this.key(id), payload, expiresIn);
  }
  async find(id) {
    return get(this.key(id));
  }
  async findByUid(uid) {
    const id = get(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }
  async findByUserCode(userCode) {
    const id = get(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }
  async consume(id) {
    const value = get(this.key(id));
    if (value) value.consumed = Math.floor(now() / 1000);
  }
  async destroy(id) {
    store.delete(this.key(id));
  }
  async revokeByGrantId(grantId) {
    for (const key of get(`grant:${grantId}`) ?? []) store.delete(key);
    store.delete(`grant:${grantId}`);
  }
}

// ------------------------------------------------------------------------------ provider

const jwks = await signingKeys();
const state = accounts();
const USERS = new Map(state.users.map((u) => [u.username, u]));
const FIRST_PARTY = new Set(Object.values(CLIENT_IDS));

function userClaims(u) {
  return { name: u.name, preferred_username: u.username, groups: [], ...(u.roles ? { roles: u.roles } : {}) };
}

/** Grants first-party clients what they ask for, so a browser goes straight back to the redirect URI. */
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!FIRST_PARTY.has(oidc.client.clientId)) return grant;
  grant ??= new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.account.accountId });
  const scopes = [...oidc.requestParamOIDCScopes];
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  const claims = [...oidc.requestParamClaims];
  if (claims.length) grant.addOIDCClaims(claims);
  for (const [indicator, server] of Object.entries(oidc.resourceServers)) {
    const wanted = [...oidc.requestParamScopes].filter((s) => server.scopes.has(s));
    grant.addResourceScope(indicator, wanted.join(' '));
  }
  await grant.save();
  return grant;
}

function deviceInputSource(ctx, _form, _out, err) {
  let msg = '<p>Enter the code shown on your device.</p>';
  if (err && (err.userCode || err.name === 'NoCodeError')) msg = '<p class="error" role="alert">The code you entered is not valid. Try again.</p>';
  else if (err?.name === 'AbortedError') msg = '<p class="error" role="alert">The sign-in request was cancelled.</p>';
  else if (err) msg = '<p class="error" role="alert">There was an error processing your request.</p>';
  ctx.type = 'html';
  ctx.body = page(
    'Device sign-in',
    `${msg}
<form method="post" action="${esc(ctx.oidc.urlFor('code_verification'))}">
<input type="hidden" name="xsrf" value="${esc(ctx.oidc.session.state?.secret)}">
<label for="user_code">Code</label>
<input type="text" id="user_code" name="user_code" value="${esc(err?.userCode ?? '')}" autofocus autocomplete="off" autocapitalize="characters">
<button type="submit">Continue</button>
</form>`,
  );
}

function deviceConfirmSource(ctx, _form, client, _deviceInfo, userCode) {
  const action = esc(ctx.oidc.urlFor('code_verification'));
  const hidden = `<input type="hidden" name="xsrf" value="${esc(ctx.oidc.session.state?.secret)}">
<input type="hidden" name="user_code" value="${esc(userCode)}">`;
  ctx.type = 'html';
  ctx.body = page(
    'Confirm device',
    `<p><strong>${esc(client.clientName || client.clientId)}</strong> wants to sign in. Check that your device shows this code:</p>
<p><code>${esc(userCode)}</code></p>
<form method="post" action="${action}">${hidden}<input type="hidden" name="confirm" value="yes"><button type="submit">Continue</button></form>
<form method="post" action="${action}">${hidden}<input type="hidden" name="abort" value="yes"><button type="submit" class="secondary">Cancel</button></form>`,
  );
}

function deviceSuccessSource(ctx) {
  const { clientName, clientId } = ctx.oidc.client;
  ctx.type = 'html';
  ctx.body = page('Signed in', `<p>You are signed in to <strong>${esc(clientName || clientId)}</strong>. You can close this page.</p>`);
}

function logoutSource(ctx, form) {
  ctx.type = 'html';
  ctx.body = page(
    'Sign out',
    `<p>Sign out of ${esc(ctx.host)}?</p>
${form.replace('</form>', '<button type="submit" name="logout" value="yes">Sign out</button><button type="submit" class="secondary">Stay signed in</button></form>')}`,
  );
}

function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Signed out', '<p>You are signed out.</p>');
}

function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = page(
    'Sign-in error',
    Object.entries(out)
      .map(([k, v]) => `<p class="error">${esc(k)}: ${esc(v)}</p>`)
      .join('\n'),
  );
}

const provider = new Provider(ISSUER, {
  adapter: MemoryStore,
  jwks,
  cookies: {
    keys: cookieKeys(),
    // Plain HTTP on loopback: browsers drop SameSite=None cookies that are not Secure.
    long: { signed: true, httpOnly: true, sameSite: 'lax' },
    short: { signed: true, httpOnly: true, sameSite: 'lax' },
  },
  clients: [
    {
      client_id: CLIENT_IDS.console,
      client_name: 'Pipewright console',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: REDIRECT_URIS,
      post_logout_redirect_uris: [...new Set(REDIRECT_URIS.map((u) => `${new URL(u).origin}/`))],
    },
    {
      client_id: CLIENT_IDS.cli,
      client_name: 'Pipewright CLI',
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_GRANT, 'refresh_token'],
      response_types: [],
      redirect_uris: [],
    },
    {
      client_id: CLIENT_IDS.ci,
      client_name: 'Pipewright CI',
      client_secret: state.clients.ci.clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
  // The console (a single-page app) exchanges its code and refreshes its tokens from the browser.
  clientBasedCORS: (_ctx, origin, client) => client.clientId === CLIENT_IDS.console && loopbackOrigin(origin),
  responseTypes: ['code'],
  pkce: { methods: ['S256'], required: () => true },
  scopes: ['openid', 'offline_access', 'profile', 'groups'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], groups: ['groups', 'roles'] },
  async findAccount(_ctx, sub) {
    const u = USERS.get(sub);
    if (!u) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...userClaims(u) }) };
  },
  async extraTokenClaims(_ctx, token) {
    if (token.accountId) {
      const u = USERS.get(token.accountId);
      return u ? userClaims(u) : undefined;
    }
    // Client credentials: sub is the client id already (oidc-provider's JWT format).
    return { name: token.client?.clientName ?? token.clientId, groups: [] };
  },
  loadExistingGrant,
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    deviceFlow: {
      enabled: true,
      userCodeInputSource: deviceInputSource,
      userCodeConfirmSource: deviceConfirmSource,
      successSource: deviceSuccessSource,
    },
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    resourceIndicators: {
      enabled: true,
      // Every grant yields an access token for the Pipewright API, whether or not `resource` was sent.
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      async getResourceServerInfo(_ctx, indicator) {
        if (indicator !== RESOURCE && indicator !== AUDIENCE) throw new errors.InvalidTarget(`unknown resource; use ${RESOURCE}`);
        return { scope: 'api', audience: AUDIENCE, accessTokenTTL: ACCESS_TOKEN_TTL, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL,
    ClientCredentials: ACCESS_TOKEN_TTL,
    IdToken: ACCESS_TOKEN_TTL,
    AuthorizationCode: 60,
    DeviceCode: 600,
    Interaction: 3600,
    Session: 24 * 3600,
    Grant: 14 * 24 * 3600,
    RefreshToken: 14 * 24 * 3600,
  },
});

// Development only: like a native app's loopback redirect (RFC 8252 section 7.3), the console's
// redirect URIs match on any port of 127.0.0.1 or localhost, so a gateway on any free port (the
// browser tests start one per suite) can sign in. The path must still be a registered one.
const samePathAnyLoopbackPort = (value, registered) => {
  if (!URL.canParse(value) || !loopbackOrigin(new URL(value).origin)) return false;
  const a = new URL(value);
  return registered.some((r) => {
    if (!URL.canParse(r)) return false;
    const b = new URL(r);
    return a.protocol === b.protocol && a.hostname === b.hostname && a.pathname === b.pathname && a.search === b.search;
  });
};
const { redirectUriAllowed, postLogoutRedirectUriAllowed } = provider.Client.prototype;
provider.Client.prototype.redirectUriAllowed = function (value) {
  return redirectUriAllowed.call(this, value) || (this.clientId === CLIENT_IDS.console && samePathAnyLoopbackPort(value, this.redirectUris));
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function (value) {
  return postLogoutRedirectUriAllowed.call(this, value) || (this.clientId === CLIENT_IDS.console && samePathAnyLoopbackPort(value, this.postLogoutRedirectUris ?? []));
};

provider.on('server_error', (_ctx, err) => log(`server error: ${err.stack ?? err}`));
for (const event of ['authorization.error', 'grant.error', 'device_authorization.error', 'end_session.error']) {
  provider.on(event, (_ctx, err) => log(`${event}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`));
}

// --------------------------------------------------------------------------- interactions

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 64 * 1024) throw new Error('request body too large');
  }
  return new URLSearchParams(body);
}

function passwordMatches(user, password) {
  const a = Buffer.from(String(user?.password ?? ''));
  const b = Buffer.from(String(password ?? ''));
  return user !== undefined && a.length === b.length && timingSafeEqual(a, b);
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new errors.SessionNotFound('interaction session and URL do not match');
  const client = await provider.Client.find(details.params.client_id);
  const clientName = client?.clientName ?? details.params.client_id;
  const { name: prompt } = details.prompt;

  if (req.method === 'GET' && !action) {
    if (prompt === 'login') return send(res, 200, loginPage(uid, clientName));
    if (prompt === 'consent') return send(res, 200, consentPage(uid, clientName, details.prompt.details));
    return send(res, 501, page('Sign-in error', `<p class="error">unsupported prompt ${esc(prompt)}</p>`));
  }
  if (req.method !== 'POST') return send(res, 405, page('Sign-in error', '<p class="error">method not allowed</p>'));

  if (action === 'abort') {
    const result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  if (action === 'login') {
    if (prompt !== 'login') throw new errors.InvalidRequest('this sign-in step is already done');
    const form = await readForm(req);
    const username = (form.get('username') ?? '').trim();
    const user = USERS.get(username);
    if (!passwordMatches(user, form.get('password'))) {
      log(`sign-in refused for "${username}"`);
      return send(res, 200, loginPage(uid, clientName, { username, error: 'Wrong username or password.' }));
    }
    log(`signed in: ${username} (client ${details.params.client_id})`);
    return provider.interactionFinished(req, res, { login: { accountId: username, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
  }
  if (action === 'confirm') {
    if (prompt !== 'consent') throw new errors.InvalidRequest('nothing to confirm');
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }
  return send(res, 404, page('Sign-in error', '<p class="error">not found</p>'));
}

// -------------------------------------------------------------------------------- server

const callback = provider.callback();
const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', ISSUER).pathname;
  const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?$/.exec(path);
  if (m) {
    interaction(req, res, m[1], m[2]).catch((err) => {
      const expired = err instanceof errors.SessionNotFound;
      if (!expired) log(`interaction ${m[1]}: ${err.stack ?? err}`);
      const msg = expired ? 'This sign-in request has expired or was already completed. Start again from the application.' : err.message;
      if (!res.headersSent) send(res, expired ? 400 : 500, page('Sign-in error', `<p class="error">${esc(msg)}</p>`));
    });
    return;
  }
  if (path === '/' && req.method === 'GET') {
    send(
      res,
      200,
      page(
        'Pipewright sign-in',
        `<p>Issuer <code>${esc(ISSUER)}</code>, audience <code>${esc(AUDIENCE)}</code>.</p>
<p><a href="/.well-known/openid-configuration">Discovery</a> · <a href="/device">Enter a device code</a></p>`,
      ),
    );
    return;
  }
  callback(req, res);
});

server.listen(PORT, '127.0.0.1', () => {
  log(`issuer ${ISSUER} (audience ${AUDIENCE}); state in ${STATE_DIR}${USERS_FILE ? `; users in ${USERS_FILE}` : ''}`);
});
server.on('error', (err) => {
  log(`cannot listen on 127.0.0.1:${PORT}: ${err.message}`);
  process.exit(1);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
