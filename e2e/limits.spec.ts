import { gql, startPlatform, type TestPlatform } from '@pipewright/testing';
import { createClient, type Client } from 'graphql-ws';
import { randomUUID } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import WebSocket from 'ws';

describe('abuse limits at the gateway', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startPlatform('limits', {}, {}, {
      gatewayEnv: { RATE_LIMIT_PER_SECOND: '20', RATE_LIMIT_BURST: '50', RATE_LIMIT_PER_ADDRESS_PER_SECOND: '20', RATE_LIMIT_PER_ADDRESS_BURST: '150', MAX_QUERY_DEPTH: '6', MAX_QUERY_COST: '40', MAX_REQUEST_BYTES: '65536', MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' },
    });
  });
  afterAll(() => platform?.stop());

  it('answers 429 with Retry-After past one caller\'s limit (200 requests in a second), and serves another caller meanwhile', async () => {
    const flooder = await platform.token({ sub: 'flood', roles: ['VIEWER'] });
    const other = await platform.token({ sub: 'calm', roles: ['VIEWER'] });
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const res = await fetch(platform.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${flooder}` }, body: JSON.stringify({ query: '{ pipelinesInfo { service } }' }) });
        return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { errors?: { message: string; extensions: { code: string } }[] } };
      }),
    );
    const elapsed = (Date.now() - started) / 1000;
    const served = answers.filter((a) => a.status === 200).length;
    const limited = answers.filter((a) => a.status === 429);
    // The burst (50) and what the rate (20/s) refilled while they were answered; every other one refused.
    expect(served).toBeGreaterThanOrEqual(50);
    expect(served).toBeLessThanOrEqual(50 + Math.ceil(20 * elapsed) + 1);
    expect(limited.length).toBe(200 - served);
    for (const l of limited) {
      expect(Number(l.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(l.body.errors?.[0]).toMatchObject({ extensions: { code: 'RATE_LIMITED' }, message: expect.stringMatching(/^too many requests from this caller: retry in \d+ s \(the gateway's RATE_LIMIT_PER_SECOND \/ RATE_LIMIT_BURST\)/) });
    }
    const calm = await gql<{ pipelinesInfo: { service: string } }>(platform.gatewayUrl, '{ pipelinesInfo { service } }', { token: other });
    expect(calm).toMatchObject({ status: 200, data: { pipelinesInfo: { service: 'pipelines' } } });
  });

  it('refuses an operation nested too deep or selecting too many fields, naming the limit, before running it', async () => {
    const token = await platform.token({ sub: 'deep', roles: ['VIEWER'] });
    const deep = await gql(platform.gatewayUrl, '{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }', { token });
    expect(deep.status).toBe(400);
    expect(deep.errors?.[0]).toMatchObject({ message: 'operation is nested 8 levels deep, more than the gateway allows (6, MAX_QUERY_DEPTH)' });
    const wide = await gql(platform.gatewayUrl, `query Wide { ${Array.from({ length: 30 }, (_, i) => `a${i}: pipelinesInfo { service }`).join(' ')} }`, { token });
    expect(wide.status).toBe(400);
    expect(wide.errors?.[0]).toMatchObject({ message: 'operation Wide selects 60 fields, more than the gateway allows (40, MAX_QUERY_COST)' });
    // Within both: served.
    expect((await gql(platform.gatewayUrl, '{ a: pipelinesInfo { service } b: buildsInfo { service } }', { token })).status).toBe(200);
  });

  it('refuses a request body larger than MAX_REQUEST_BYTES with 413', async () => {
    const token = await platform.token({ sub: 'big', roles: ['VIEWER'] });
    const res = await gql(platform.gatewayUrl, '{ pipelinesInfo { service } }', { token, variables: { padding: 'x'.repeat(70_000) } });
    expect(res).toMatchObject({ status: 413, errors: [{ message: 'the request body is larger than the gateway allows (65536 bytes, MAX_REQUEST_BYTES)', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('allows at most MAX_SUBSCRIPTIONS_PER_CONNECTION operations open on one connection', async () => {
    const dev = await platform.token({ sub: 'subs', roles: ['DEVELOPER'] });
    const created = await gql<{ createPipeline: { id: string } }>(platform.gatewayUrl, 'mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }', {
      token: dev,
      variables: { i: { name: `limits-${randomUUID().slice(0, 8)}`, stages: [{ refId: 'wait', name: 'Wait', type: 'JUDGEMENT', config: {} }] } },
    });
    const runId = (await gql<{ runPipeline: { id: string } }>(platform.gatewayUrl, 'mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }', { token: dev, variables: { p: created.data!.createPipeline.id } })).data!.runPipeline.id;
    const client: Client = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${dev}` }, retryAttempts: 0 });
    try {
      const first = (): Promise<string> =>
        new Promise((resolve, reject) => client.subscribe({ query: `subscription { runUpdated(runId: "${runId}") { id status } }` }, { next: () => resolve('open'), error: reject, complete: () => reject(new Error('completed')) }));
      // Two open subscriptions (each has delivered the run's state, so each is live)...
      expect(await first()).toBe('open');
      expect(await first()).toBe('open');
      // ...and a third is refused with the reason.
      const third = await new Promise<unknown>((resolve) => client.subscribe({ query: `subscription { runUpdated(runId: "${runId}") { id } }` }, { next: () => resolve('delivered'), error: resolve, complete: () => resolve('completed') }));
      expect(third).toEqual([expect.objectContaining({ message: expect.stringMatching(/^this connection has 2 operations open already, the most the gateway allows \(MAX_SUBSCRIPTIONS_PER_CONNECTION\)/) })]);
    } finally {
      await client.dispose();
    }
  });
  // Last: it leaves 127.0.0.1's bucket empty.
  it('limits one address that sends a new token with every request, and serves another address meanwhile', async () => {
    const token = await platform.token({ sub: 'elsewhere', roles: ['VIEWER'] });
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const res = await fetch(platform.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer rotated-${i}-${randomUUID()}` }, body: JSON.stringify({ query: '{ pipelinesInfo { service } }' }) });
        return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { errors?: { message: string }[] } };
      }),
    );
    const elapsed = (Date.now() - started) / 1000;
    // Each token is new, so no caller bucket refuses: the address's does (its burst of 150 was partly
    // spent by the tests before, and it refills at 20/s).
    const passed = answers.filter((a) => a.status !== 429);
    const limited = answers.filter((a) => a.status === 429);
    expect(passed.every((a) => a.status === 401)).toBe(true); // the made-up tokens were looked at, and refused
    expect(passed.length).toBeLessThanOrEqual(150 + Math.ceil(20 * elapsed) + 1);
    expect(limited.length).toBeGreaterThanOrEqual(300 - 150 - Math.ceil(20 * elapsed) - 1);
    expect(limited.length).toBeGreaterThan(0);
    for (const l of limited) {
      expect(Number(l.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(l.body.errors?.[0].message).toMatch(/^too many requests from this address: retry in \d+ s \(the gateway's RATE_LIMIT_PER_ADDRESS_PER_SECOND \/ RATE_LIMIT_PER_ADDRESS_BURST\)/);
    }
    // A WebSocket connection counts too: from the same address, each with yet another new token,
    // connections are closed with 1013 (try again later) before their token is looked at, as soon
    // as the bucket (refilling at 20/s) is empty again. Without the limit each would get 4401.
    const connectOnce = () =>
      new Promise<{ code: number; reason: string }>((resolve) => {
        const socket = new WebSocket(platform.gatewayUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
        socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer rotated-ws-${randomUUID()}` } })));
      });
    const closes: { code: number; reason: string }[] = [];
    while (closes.length < 50 && !closes.some((c) => c.code === 1013)) closes.push(await connectOnce());
    expect(closes.find((c) => c.code === 1013)).toEqual({ code: 1013, reason: expect.stringMatching(/^Try again later: too many requests from this address/) });
    // 127.0.0.2 (loopback too, another source address) has a bucket of its own.
    // The source address of every connection (a Client option, passed to net.connect).
    const dispatcher = new Agent({ localAddress: '127.0.0.2' });
    try {
      const res = await undiciFetch(platform.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ pipelinesInfo { service } }' }), dispatcher });
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { data: { pipelinesInfo: { service: 'pipelines' } } } });
    } finally {
      await dispatcher.close();
    }
  });
});
