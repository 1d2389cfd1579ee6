import { signRequest } from '@pipewright/auth';
import { gql, serviceQuery, startPlatform, SERVICE_NAMES, type TestPlatform } from '@pipewright/testing';
import { createClient } from 'graphql-ws';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
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

  it('reaches each of the six subgraphs in one query, forwarding the caller', async () => {
    const token = await platform.token({ sub: 'alice', roles: ['DEVELOPER'] });
    const res = await gql<Record<string, { service: string; viewer: { sub: string; roles: string[] } }>>(platform.gatewayUrl, INFO_QUERY, { token });
    expect(res.errors).toBeUndefined();
    for (const service of SERVICE_NAMES) {
      expect(res.data![`${service}Info`]).toEqual({ service, viewer: { sub: 'alice', roles: ['DEVELOPER'] } });
    }
  });

  it('composes a supergraph that holds all six subgraphs', async () => {
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

  it.each(SERVICE_NAMES)('the %s subgraph rejects a call that bypasses the gateway, and a signed request replayed, altered or sent elsewhere', async (service) => {
    const url = `${platform.serviceUrls[service]}/graphql`;
    const query = `{ ${service}Info { service } }`;
    const identity = { sub: 'alice', roles: ['VIEWER' as const] };
    const sign = { identity, secret: platform.internalSecret, audience: service };

    const unsigned = await gql(url, query);
    expect(unsigned.status).toBe(401);
    expect(unsigned.errors?.[0]).toMatchObject({ message: 'missing gateway signature: call the gateway, not a subgraph', extensions: { code: 'UNAUTHENTICATED' } });

    const forged = await gql(url, query, { sign: { ...sign, identity: { sub: 'mallory', roles: ['ADMIN'] }, secret: 'a-secret-that-is-not-shared' } });
    expect(forged.status).toBe(401);
    expect(forged.errors?.[0].message).toBe('invalid gateway signature');

    const stale = await gql(url, query, { sign: { ...sign, now: Date.now() - 3600_000 } });
    expect(stale.status).toBe(401);
    expect(stale.errors?.[0].message).toBe('expired gateway signature');

    // One signed request, captured: sent once it is served; sent again, or with another body, or
    // to another subgraph, it is refused.
    const body = JSON.stringify({ query });
    const headers = signRequest(identity, { method: 'POST', path: '/graphql', body, audience: service }, platform.internalSecret);
    const send = async (to: string, b: string) => {
      const res = await fetch(to, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: b });
      return { status: res.status, body: (await res.json()) as { data?: Record<string, { service: string }>; errors?: { message: string }[] } };
    };
    const first = await send(url, body);
    expect(first.status).toBe(200);
    expect(first.body.data![`${service}Info`].service).toBe(service);
    expect(await send(url, body)).toMatchObject({ status: 401, body: { errors: [{ message: 'replayed gateway signature: its nonce was used already' }] } });
    const altered = JSON.stringify({ query: `mutation { deleteEverything }` });
    expect(await send(url, altered)).toMatchObject({ status: 401, body: { errors: [{ message: 'invalid gateway signature' }] } });
    const other = SERVICE_NAMES.find((s) => s !== service)!;
    expect(await send(`${platform.serviceUrls[other]}/graphql`, body)).toMatchObject({ status: 401, body: { errors: [{ message: `gateway signature for another subgraph ("${service}"), not ${other}` }] } });
  });

  it("refuses a replayed signed request after the subgraph restarted too: the nonces are in the service's database, shared by its replicas", async () => {
    const url = `${platform.serviceUrls.pipelines}/graphql`;
    const body = JSON.stringify({ query: '{ pipelinesInfo { service } }' });
    const headers = signRequest({ sub: 'alice', roles: ['VIEWER'] }, { method: 'POST', path: '/graphql', body, audience: 'pipelines' }, platform.internalSecret);
    const send = async () => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await send()).toMatchObject({ status: 200, body: { data: { pipelinesInfo: { service: 'pipelines' } } } });
    // A new process (what another replica is: nothing of the first one's memory) still refuses it.
    await platform.restart('pipelines');
    expect(await send()).toMatchObject({ status: 401, body: { errors: [{ message: 'replayed gateway signature: its nonce was used already' }] } });
    const rows = await serviceQuery<{ n: number }>(platform, 'pipelines', `SELECT count(*)::int AS n FROM request_nonces WHERE nonce = $1`, [headers['x-pw-nonce']]);
    expect(rows).toEqual([{ n: 1 }]);
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

  it('refuses a token without an expiry', async () => {
    const forever = await new SignJWT({ roles: ['ADMIN'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt().sign(new TextEncoder().encode(platform.jwtSecret));
    const res = await gql(platform.gatewayUrl, '{ buildsInfo { service } }', { token: forever });
    expect(res.status).toBe(401);
    expect(res.errors?.[0]).toMatchObject({ message: 'token has no expiry (exp claim): tokens must expire', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('closes a subscription with 4403 when its connection\'s token expires (3 s lifetime), and a fresh token reconnects', async () => {
    // A run that waits at a judgement: its runUpdated subscription stays open.
    const dev = await platform.token({ sub: 'dana', roles: ['DEVELOPER'] });
    const created = await gql<{ createPipeline: { id: string } }>(platform.gatewayUrl, 'mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }', {
      token: dev,
      variables: { i: { name: `expiry-${randomUUID().slice(0, 8)}`, stages: [{ refId: 'wait', name: 'Wait', type: 'JUDGEMENT', config: {} }] } },
    });
    const run = await gql<{ runPipeline: { id: string } }>(platform.gatewayUrl, 'mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }', { token: dev, variables: { p: created.data!.createPipeline.id } });
    const runId = run.data!.runPipeline.id;
    const short = await platform.token({ sub: 'bob', roles: ['VIEWER'] }, 3);
    const client = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${short}` }, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined });
    const events: string[] = [];
    const closed = new Promise<{ code: number; reason: string }>((resolve) => client.on('closed', (e) => resolve(e as { code: number; reason: string })));
    const ended = new Promise<unknown>((resolve) =>
      client.subscribe({ query: `subscription { runUpdated(runId: "${runId}") { id status } }` }, { next: (v) => void events.push(JSON.stringify(v)), error: resolve, complete: () => resolve('complete') }),
    );
    let endedFirst = false;
    void ended.then(() => (endedFirst = true));
    const at = await closed;
    expect(endedFirst).toBe(false); // the subscription was still open when its socket was closed
    expect(events.length).toBeGreaterThan(0); // and had delivered the run's state
    expect(at).toMatchObject({ code: 4403, reason: 'Forbidden: the token expired; reconnect with a fresh one' });
    await ended;
    await client.dispose();
    const fresh = await platform.token({ sub: 'bob', roles: ['VIEWER'] });
    const again = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${fresh}` }, retryAttempts: 0 });
    try {
      const result = await new Promise<{ data?: { pipelinesInfo: { viewer: { sub: string } } } }>((resolve, reject) => {
        let value: { data?: { pipelinesInfo: { viewer: { sub: string } } } };
        again.subscribe({ query: '{ pipelinesInfo { viewer { sub } } }' }, { next: (v) => (value = v as typeof value), error: reject, complete: () => resolve(value) });
      });
      expect(result.data?.pipelinesInfo.viewer.sub).toBe('bob');
    } finally {
      await again.dispose();
    }
  }, 30_000);

  it('closes a graphql-ws connection without a valid token', async () => {
    const client = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: 'Bearer nonsense' }, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined });
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => client.on('closed', (e) => resolve(e as { code: number; reason: string })));
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/Unauthenticated: invalid token/);
    await client.dispose();
  });
});
