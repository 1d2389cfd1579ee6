import { issueDevToken } from '@pipewright/auth';
import { DEFAULT_PROJECT_ID } from '@pipewright/contracts';
import { devUserPasswords, discover, gql, loginWithAuthorizationCode, providerSigner, startPlatform, testEnv, tokenRequest, type TestPlatform, type TokenClaims } from '@pipewright/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/**
 * The gateway in front of the real development OpenID provider (deploy/testenv/oidc-provider.mjs):
 * people sign in with the authorization-code flow and PKCE; tokens of another issuer, expired,
 * for another audience or without expiry are refused; groups map to roles.
 */
describe('sign-in with OpenID Connect', () => {
  let platform: TestPlatform;
  let sign: Awaited<ReturnType<typeof providerSigner>>;
  let users: Record<string, string>;
  const viewerQuery = '{ viewer { sub name roles via projects { project { slug } roles } } }';

  beforeAll(async () => {
    sign = await providerSigner();
    users = devUserPasswords();
    const mint = (c: TokenClaims, ttl = 600) => sign({ name: c.name, roles: c.roles, groups: c.groups }, { sub: c.sub, exp: Math.floor(Date.now() / 1000) + ttl });
    platform = await startPlatform(
      'oidc',
      // The API's audience (access tokens) and the console's client id (its ID tokens), as npm start sets them.
      { OIDC_ISSUER: testEnv('OIDC_ISSUER'), OIDC_AUDIENCE: `${testEnv('OIDC_AUDIENCE')},pipewright-console`, OIDC_GROUP_MAPPING: 'pw-admins=ADMIN,payments-devs=payments:DEVELOPER+APPROVAL_ADMIN' },
      { projects: { PROJECT_MEMBERS_BOOTSTRAP: 'developer=DEVELOPER,approver=APPROVAL_ADMIN,viewer=VIEWER' } },
      { mint },
    );
    await platform.createProject('payments');
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it('accepts a token from the authorization-code flow with PKCE, with the member roles of the user', async () => {
    const tokens = await loginWithAuthorizationCode({ issuer: testEnv('OIDC_ISSUER'), username: 'developer', password: users.developer });
    const res = await gql<{ viewer: Record<string, unknown> }>(platform.gatewayUrl, viewerQuery, { token: tokens.access_token });
    expect(res.errors).toBeUndefined();
    expect(res.data!.viewer).toMatchObject({ sub: 'developer', roles: [], via: 'oidc', projects: [{ project: { slug: 'default' }, roles: ['DEVELOPER'] }] });
    const created = await gql<{ createPipeline: { projectId: string; createdBy: string } }>(
      platform.gatewayUrl,
      'mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { projectId createdBy } }',
      { token: tokens.access_token, variables: { i: { name: 'signed-in', stages: [] } } },
    );
    expect(created.data?.createPipeline).toEqual({ projectId: DEFAULT_PROJECT_ID, createdBy: 'developer' });

    // The ID token of the same sign-in (audience: the console's client id) is accepted too.
    expect(tokens.id_token).toEqual(expect.any(String));
    const byIdToken = await gql<{ viewer: { sub: string } }>(platform.gatewayUrl, '{ viewer { sub } }', { token: tokens.id_token });
    expect(byIdToken.data?.viewer.sub).toBe('developer');

    const admin = await loginWithAuthorizationCode({ issuer: testEnv('OIDC_ISSUER'), username: 'admin', password: users.admin });
    const asAdmin = await gql<{ viewer: { roles: string[] } }>(platform.gatewayUrl, viewerQuery, { token: admin.access_token });
    expect(asAdmin.data?.viewer.roles).toEqual(['ADMIN']);
  });

  it('accepts a client-credentials token of the CI client', async () => {
    const d = await discover(testEnv('OIDC_ISSUER'));
    const { status, body } = await tokenRequest(d.token_endpoint, { grant_type: 'client_credentials' }, { user: testEnv('OIDC_CI_CLIENT_ID'), password: testEnv('OIDC_CI_CLIENT_SECRET') });
    expect(status).toBe(200);
    const res = await gql<{ viewer: { sub: string } }>(platform.gatewayUrl, '{ viewer { sub } }', { token: String(body.access_token) });
    expect(res.errors).toBeUndefined();
    expect(res.data!.viewer.sub).toBe(testEnv('OIDC_CI_CLIENT_ID'));
  });

  it('maps the groups claim to platform roles and project memberships', async () => {
    const token = await sign({ groups: ['payments-devs', 'unmapped'] }, { sub: 'pat' });
    const res = await gql<{ viewer: { roles: string[]; projects: { project: { slug: string }; roles: string[] }[] } }>(platform.gatewayUrl, viewerQuery, { token });
    expect(res.data!.viewer.roles).toEqual([]);
    expect(res.data!.viewer.projects).toEqual([{ project: { slug: 'payments' }, roles: ['DEVELOPER', 'APPROVAL_ADMIN'] }]);
    const admins = await gql<{ viewer: { roles: string[] } }>(platform.gatewayUrl, viewerQuery, { token: await sign({ groups: ['pw-admins'] }, { sub: 'ops' }) });
    expect(admins.data!.viewer.roles).toEqual(['ADMIN']);
  });

  it('refuses a token of another issuer, an expired one, one for another audience, one without exp, and a development-secret token', async () => {
    const foreignKey = await generateKeyPair('RS256');
    const foreignJwk = await exportJWK(foreignKey.publicKey);
    expect(foreignJwk.kty).toBe('RSA');
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string, RegExp][] = [
      [
        'another issuer',
        await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'other' }).setIssuer('http://127.0.0.1:9/other').setAudience(testEnv('OIDC_AUDIENCE')).setSubject('eve').setExpirationTime(now + 600).sign(foreignKey.privateKey),
        /invalid token|issuer/,
      ],
      ['another issuer, signed with the right key', await sign({}, { iss: 'http://127.0.0.1:9/other' }), /issuer is not accepted/],
      ['expired', await sign({}, { exp: now - 60 }), /token expired/],
      ['another audience', await sign({}, { aud: 'somebody-else' }), /audience is not accepted/],
      ['no exp', await sign({}, { exp: null }), /no expiry/],
      ['a development-secret token', await issueDevToken({ sub: 'dev', roles: ['ADMIN'] }, platform.jwtSecret), /invalid token/],
    ];
    for (const [what, token, message] of cases) {
      const res = await gql(platform.gatewayUrl, '{ viewer { sub } }', { token });
      expect({ what, status: res.status, code: res.errors?.[0].extensions?.code }).toEqual({ what, status: 401, code: 'UNAUTHENTICATED' });
      expect(res.errors![0].message).toMatch(message);
    }
  });
});
