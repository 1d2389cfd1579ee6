import { startPlatform, gql, type TestPlatform } from '@pipewright/testing';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { createServer, type Server } from 'node:http';

describe('the gateway verifying tokens against a JWKS URL', () => {
  let platform: TestPlatform;
  let jwks: Server;
  let privateKey: KeyLike;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const { port } = jwks.address() as { port: number };
    platform = await startPlatform('jwks', { JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`, JWT_ISSUER: 'https://idp.test' });
  });
  afterAll(async () => {
    await platform?.stop();
    await new Promise((r) => jwks?.close(r));
  });

  const sign = (key: KeyLike, kid: string, issuer = 'https://idp.test') =>
    new SignJWT({ name: 'Iris', roles: ['VIEWER'] }).setProtectedHeader({ alg: 'RS256', kid }).setSubject('iris').setIssuer(issuer).setExpirationTime('10m').sign(key);

  it('accepts a token signed by a key the JWKS publishes', async () => {
    const res = await gql<{ buildsInfo: { viewer: { sub: string; name: string; roles: string[] } } }>(platform.gatewayUrl, '{ buildsInfo { viewer { sub name roles } } }', { token: await sign(privateKey, 'test-key') });
    expect(res.errors).toBeUndefined();
    expect(res.data!.buildsInfo.viewer).toEqual({ sub: 'iris', name: 'Iris', roles: ['VIEWER'] });
  });

  it('refuses a token from another key, or from another issuer', async () => {
    const other = await generateKeyPair('RS256');
    const foreign = await gql(platform.gatewayUrl, '{ buildsInfo { service } }', { token: await sign(other.privateKey, 'test-key') });
    expect(foreign.errors?.[0]).toMatchObject({ message: 'invalid token', extensions: { code: 'UNAUTHENTICATED' } });
    const wrongIssuer = await gql(platform.gatewayUrl, '{ buildsInfo { service } }', { token: await sign(privateKey, 'test-key', 'https://evil.test') });
    expect(wrongIssuer.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
