import { signIdentity } from '@pipewright/auth';
import { gql, startPlatform, SERVICE_NAMES, type TestPlatform } from '@pipewright/testing';
import { createClient } from 'graphql-ws';
import { SignJWT } from 'jose';
import WebSocket from 'ws';

const INFO_QUERY = `{ ${SERVICE_NAMES.map((s) => `${s}Info { service viewer { sub roles } }`).join(' ')} }`;

describe('the platform through the gateway', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startPlatform('e2e');
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('reaches each of the five subgraphs in one query, forwarding the caller', async () => {
    const token = await platform.token({ sub: 'alice', roles: ['DEVELOPER'] });
    const res = await gql<Record<string, { service: string; viewer: { sub: string; roles: string[] } }>>(platform.gatewayUrl, INFO_QUERY, { token });
    expect(res.errors).toBeUndefined();
    for (const service of SERVICE_NAMES) {
      expect(res.data![`${service}Info`]).toEqual({ service, viewer: { sub: 'alice', roles: ['DEVELOPER'] } });
    }
  });

  it('composes a supergraph that holds all five subgraphs', async () => {
    const token = await platform.token({ roles: ['VIEWER'] });
    const res = await gql<{ __schema: { queryType: { fields: { name: string }[] } } }>(
      platform.gatewayUrl,
      '{ __schema { queryType { fields { name } } } }',
      { token },
    );
    const fields = res.data!.__schema.queryType.fields.map((f) => f.name);
    expect(fields).toEqual(expect.arrayContaining(SERVICE_NAMES.map((s) => `${s}Info`)));
  });

  it('answers UNAUTHENTICATED without a token', async () => {
    const res = await gql(platform.gatewayUrl, '{ buildsInfo { service } }');
    expect(res.status).toBe(401);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.errors?.[0].message).toMatch(/Authorization/);
  });

  it('answers UNAUTHENTICATED for a token signed with another secret', async () => {
    const forged = await new SignJWT({ roles: ['ADMIN'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-gateway-secret-at-all'));
    const res = await gql(platform.gatewayUrl, '{ buildsInfo { service } }', { token: forged });
    expect(res.status).toBe(401);
    expect(res.errors?.[0]).toMatchObject({ message: 'invalid token', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('answers UNAUTHENTICATED for an expired token', async () => {
    const expired = await new SignJWT({ roles: ['ADMIN'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(platform.jwtSecret));
    const res = await gql(platform.gatewayUrl, '{ buildsInfo { service } }', { token: expired });
    expect(res.status).toBe(401);
    expect(res.errors?.[0]).toMatchObject({ message: 'token expired', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it.each(SERVICE_NAMES)('the %s subgraph rejects a call that bypasses the gateway', async (service) => {
    const url = `${platform.serviceUrls[service]}/graphql`;
    const query = `{ ${service}Info { service } }`;

    const unsigned = await gql(url, query);
    expect(unsigned.status).toBe(401);
    expect(unsigned.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    const wrongKey = signIdentity({ sub: 'mallory', roles: ['ADMIN'] }, 'a-secret-that-is-not-shared');
    const forged = await gql(url, query, { headers: wrongKey });
    expect(forged.status).toBe(401);
    expect(forged.errors?.[0].message).toBe('invalid gateway signature');

    const stale = signIdentity({ sub: 'alice', roles: ['ADMIN'] }, platform.internalSecret, Date.now() - 3600_000);
    expect((await gql(url, query, { headers: stale })).status).toBe(401);

    // The same request signed with the shared secret goes through: the signature is what decides.
    const signed = await gql<Record<string, { service: string }>>(url, query, { headers: signIdentity({ sub: 'alice', roles: ['VIEWER'] }, platform.internalSecret) });
    expect(signed.status).toBe(200);
    expect(signed.data![`${service}Info`].service).toBe(service);
  });

  it('serves graphql-ws on /graphql for an authenticated connection', async () => {
    const token = await platform.token({ sub: 'bob', roles: ['VIEWER'] });
    const client = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    try {
      const result = await new Promise<{ data?: Record<string, { viewer: { sub: string } }> | null }>((resolve, reject) => {
        let value: { data?: Record<string, { viewer: { sub: string } }> | null };
        client.subscribe({ query: '{ pipelinesInfo { viewer { sub } } }' }, { next: (v) => (value = v as typeof value), error: reject, complete: () => resolve(value) });
      });
      expect(result.data?.pipelinesInfo.viewer.sub).toBe('bob');
    } finally {
      await client.dispose();
    }
  });

  it('closes a graphql-ws connection without a valid token', async () => {
    const client = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: 'Bearer nonsense' }, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined });
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => client.on('closed', (e) => resolve(e as { code: number; reason: string })));
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/Unauthenticated: invalid token/);
    await client.dispose();
  });
});
