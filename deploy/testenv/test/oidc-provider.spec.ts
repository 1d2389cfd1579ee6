// Proves the development OpenID provider (deploy/testenv/oidc-provider.mjs) that deploy/testenv/up
// starts: discovery, the authorization-code flow with PKCE driven over HTTP as a browser would, the
// device flow, client credentials, and that `npm run token` mints tokens its JWKS verifies.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { testEnv } from '@pipewright/testing';
import { Browser, SignInRefusedError, discover, formWithButton, loginWithAuthorizationCode, parseForms, signIn, tokenRequest, type Discovery } from '@pipewright/testing';

interface DevUsers {
  issuer: string;
  audience: string;
  users: Array<{ username: string; password: string; roles?: string[] }>;
}

const REDIRECT_URI = 'http://127.0.0.1:4000/auth/callback';

let issuer: string;
let audience: string;
let doc: Discovery;
let jwks: ReturnType<typeof createRemoteJWKSet>;
let users: DevUsers;
const password = (username: string) => users.users.find((u) => u.username === username)!.password;

/** Verifies an access token the way the gateway does: the provider's JWKS, iss, aud and exp required. */
async function verifyAccessToken(token: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, jwks, { issuer, audience, requiredClaims: ['exp', 'iss', 'aud', 'sub'] });
  return payload;
}

beforeAll(async () => {
  issuer = testEnv('OIDC_ISSUER');
  audience = testEnv('OIDC_AUDIENCE');
  users = JSON.parse(readFileSync(testEnv('OIDC_USERS_FILE'), 'utf8')) as DevUsers;
  doc = await discover(issuer);
  jwks = createRemoteJWKSet(new URL(doc.jwks_uri));
});

describe('the development OpenID provider', () => {
  it('publishes its discovery document and an RS256 key, the one in OIDC_JWKS_FILE', async () => {
    expect(doc).toMatchObject({ issuer, code_challenge_methods_supported: ['S256'] });
    expect(doc.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']));
    expect(doc.device_authorization_endpoint).toBe(`${issuer}/device/auth`);
    const published = (await (await fetch(doc.jwks_uri)).json()) as { keys: Array<{ kid: string; kty: string; d?: string }> };
    const stored = JSON.parse(readFileSync(testEnv('OIDC_JWKS_FILE'), 'utf8')) as { keys: Array<{ kid: string }> };
    expect(published.keys.map((k) => k.kid)).toEqual(stored.keys.map((k) => k.kid));
    expect(published.keys[0]).toMatchObject({ kty: 'RSA' });
    expect(published.keys[0].d).toBeUndefined();
    expect(users.issuer).toBe(issuer);
    expect(users.users.map((u) => u.username).sort()).toEqual(['admin', 'approver', 'developer', 'viewer']);
  });

  it('signs a user in through the authorization-code flow with PKCE and issues a JWT access token for the API', async () => {
    const tokens = await loginWithAuthorizationCode({ issuer, username: 'developer', password: password('developer'), redirectUri: REDIRECT_URI });
    expect(tokens.token_type).toBe('Bearer');
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    const at = await verifyAccessToken(tokens.access_token);
    expect(at).toMatchObject({ sub: 'developer', aud: audience, name: 'Developer', preferred_username: 'developer', groups: [], client_id: 'pipewright-console' });
    expect(at.roles).toBeUndefined();
    expect(at.exp! - at.iat!).toBe(3600);
    // The ID token is for the console itself.
    const { payload: id } = await jwtVerify(tokens.id_token!, jwks, { issuer, audience: 'pipewright-console' });
    expect(id).toMatchObject({ sub: 'developer', name: 'Developer' });
    // A refresh gives another access token for the API.
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const refreshed = await tokenRequest(doc.token_endpoint, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: 'pipewright-console' });
    expect(refreshed.status).toBe(200);
    expect(await verifyAccessToken(refreshed.body.access_token as string)).toMatchObject({ sub: 'developer', aud: audience });
  });

  it('puts the platform ADMIN role into the admin user\'s token', async () => {
    const tokens = await loginWithAuthorizationCode({ issuer, username: 'admin', password: password('admin') });
    expect(await verifyAccessToken(tokens.access_token)).toMatchObject({ sub: 'admin', roles: ['ADMIN'], groups: [] });
  });

  it('refuses an authorization request without PKCE', async () => {
    const authorize = new URL(doc.authorization_endpoint);
    authorize.search = new URLSearchParams({ client_id: 'pipewright-console', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', state: 's1' }).toString();
    const page = await new Browser().navigate(authorize, {}, (u) => u.href.startsWith(REDIRECT_URI));
    expect(page.status).toBe(0);
    expect(page.url.searchParams.get('error')).toBe('invalid_request');
    expect(page.url.searchParams.get('code')).toBeNull();
  });

  it('refuses a wrong password, shows the error and the form again, and accepts the right one on it', async () => {
    const browser = new Browser();
    const err = await loginWithAuthorizationCode({ issuer, username: 'viewer', password: 'not-the-password', browser }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignInRefusedError);
    const page = (err as SignInRefusedError).page;
    expect(page.html).toContain('Wrong username or password');
    const form = formWithButton(page, 'Sign in');
    expect(Object.keys(form.labels).sort()).toEqual(['Password', 'Username']);
    // The same page, the right password: back at the redirect URI with a code.
    const back = await signIn(browser, page, 'viewer', password('viewer'), (u) => u.href.startsWith(REDIRECT_URI));
    expect(back.status).toBe(0);
    expect(back.url.searchParams.get('code')).toEqual(expect.any(String));
  });

  it('signs a CLI in through the device flow, the user code entered over plain form posts', async () => {
    const start = await fetch(doc.device_authorization_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'pipewright-cli', scope: 'openid profile' }).toString(),
    });
    expect(start.status).toBe(200);
    const device = (await start.json()) as { device_code: string; user_code: string; verification_uri: string; verification_uri_complete: string; interval: number };
    const poll = () => tokenRequest(doc.token_endpoint, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: 'pipewright-cli' });
    expect((await poll()).body.error).toBe('authorization_pending');

    const browser = new Browser();
    const input = await browser.navigate(device.verification_uri);
    const confirm = await browser.submit(formWithButton(input, 'Continue'), { Code: device.user_code }, 'Continue');
    expect(confirm.html).toContain(device.user_code);
    const login = await browser.submit(formWithButton(confirm, 'Continue'), {}, 'Continue');
    const done = await signIn(browser, login, 'approver', password('approver'));
    expect(done.status).toBe(200);
    expect(done.html).toContain('You are signed in to <strong>Pipewright CLI</strong>');

    // Polling at the interval the provider asked for (RFC 8628 §3.5) until the token is there.
    let answer = await poll();
    for (let i = 0; i < 10 && answer.body.error && ['authorization_pending', 'slow_down'].includes(answer.body.error as string); i++) {
      await new Promise((r) => setTimeout(r, (device.interval || 1) * 1000));
      answer = await poll();
    }
    expect(answer.status).toBe(200);
    expect(await verifyAccessToken(answer.body.access_token as string)).toMatchObject({ sub: 'approver', aud: audience, client_id: 'pipewright-cli' });
  });

  it('serves verification_uri_complete to a browser without JavaScript', async () => {
    const start = await fetch(doc.device_authorization_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'pipewright-cli' }).toString(),
    });
    const device = (await start.json()) as { user_code: string; verification_uri_complete: string };
    const browser = new Browser();
    const autoPost = await browser.navigate(device.verification_uri_complete);
    const confirm = await browser.submit(formWithButton(autoPost, 'Continue'), {}, 'Continue');
    expect(parseForms(confirm.html, confirm.url).some((f) => f.fields.confirm === 'yes' && f.fields.user_code === device.user_code)).toBe(true);
  });

  it('issues a client-credentials token to the CI client with its secret, and none with a wrong one', async () => {
    const user = testEnv('OIDC_CI_CLIENT_ID');
    const ok = await tokenRequest(doc.token_endpoint, { grant_type: 'client_credentials' }, { user, password: testEnv('OIDC_CI_CLIENT_SECRET') });
    expect(ok.status).toBe(200);
    const at = await verifyAccessToken(ok.body.access_token as string);
    expect(at).toMatchObject({ sub: user, client_id: user, aud: audience });
    const bad = await tokenRequest(doc.token_endpoint, { grant_type: 'client_credentials' }, { user, password: 'wrong' });
    expect(bad).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('verifies a token minted by `npm run token` (scripts/token.mjs) against its JWKS', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [join(__dirname, '..', '..', '..', 'scripts', 'token.mjs'), '--sub', 'alice', '--roles', 'ADMIN', '--name', 'Alice', '--ttl', '600'],
        { env: process.env, timeout: 30_000 },
        (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(String(out))),
      ),
    );
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const token = stdout.trim();
    const stored = JSON.parse(readFileSync(testEnv('OIDC_JWKS_FILE'), 'utf8')) as { keys: Array<{ kid: string }> };
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: stored.keys[0].kid });
    const payload = await verifyAccessToken(token);
    expect(payload).toMatchObject({ sub: 'alice', name: 'Alice', roles: ['ADMIN'], iss: issuer, aud: audience });
    expect(payload.exp! - payload.iat!).toBe(600);
  });
});
