import { connectTestNats, gql, hostPortOf, pipelineDriver, serviceQuery, startPlatform, SERVICE_NAMES, type TestPlatform } from '@pipewright/testing';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from 'nats';

interface Run {
  id: string;
  status: string;
  stages: { refId: string; status: string; attempt: number; error: string | null; outputs: Record<string, unknown> | null }[];
}

describe('Secret resources and ${secrets.NAME} in WEBHOOK stages', () => {
  let platform: TestPlatform;
  let admin: string;
  let dev: string;
  let server: Server;
  let hookUrl: string;
  let nc: NatsConnection;
  const seen: { url: string; authorization: string; body: string }[] = [];
  const bus: string[] = [];
  const value = `s3cr3t-${randomBytes(8).toString('hex')}-value`;
  const driver = pipelineDriver<Run>(() => platform.gatewayUrl, () => dev, 'id status stages { refId status attempt error outputs }', { label: 'secrets' });

  beforeAll(async () => {
    // The receiver echoes what it got (as a careless one would): the stage must not record it.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', authorization: String(req.headers.authorization ?? ''), body });
        res.writeHead(200, { 'content-type': 'application/json', 'x-echo': String(req.headers.authorization ?? '') }).end(JSON.stringify({ url: req.url, authorization: req.headers.authorization, body }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    platform = await startPlatform('secrets', {}, {}, { outbound: [hostPortOf(hookUrl)] });
    admin = await platform.token({ sub: 'ada', roles: ['ADMIN'] });
    dev = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    nc = await connectTestNats('secrets-spec');
    nc.subscribe(`${platform.prefix}.>`, { callback: (_e, m) => void bus.push(`${m.subject} ${new TextDecoder().decode(m.data)}`) });
    await nc.flush();
  });
  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    await new Promise((r) => server?.close(r));
  });

  const as = async <T>(token: string, query: string, variables: Record<string, unknown> = {}) => gql<T>(platform.gatewayUrl, query, { token, variables });

  it('stores a secret write-only: created by an ADMIN, never returned, refused to a DEVELOPER, its name checked', async () => {
    const created = await as<{ createSecret: Record<string, unknown> }>(admin, 'mutation($i: CreateSecretInput!) { createSecret(input: $i) { id name hasCredentials } }', { i: { name: 'HOOK_TOKEN', value } });
    expect(created.errors).toBeUndefined();
    expect(created.data!.createSecret).toMatchObject({ name: 'HOOK_TOKEN', hasCredentials: true });
    expect(JSON.stringify(created)).not.toContain(value);
    const listed = await as(admin, '{ secrets(first: 10) { edges { node { id name hasCredentials } } } }');
    expect(JSON.stringify(listed)).toContain('HOOK_TOKEN');
    expect(JSON.stringify(listed)).not.toContain(value);
    const denied = await as(dev, 'mutation($i: CreateSecretInput!) { createSecret(input: $i) { id } }', { i: { name: 'OTHER', value: 'another-value' } });
    expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const badName = await as(admin, 'mutation($i: CreateSecretInput!) { createSecret(input: $i) { id } }', { i: { name: 'has-dash', value: 'another-value' } });
    expect(badName.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringMatching(/name must be letters, digits and "_"/) });
  });

  it('fills ${secrets.NAME} in the URL, a header and the body for the call, and the value is in no output, error, event, log or answer', async () => {
    const id = await driver.pipeline([
      {
        refId: 'hook',
        name: 'hook',
        type: 'WEBHOOK',
        config: { url: `${hookUrl}/hook?t=\${secrets.HOOK_TOKEN}`, headers: { authorization: 'Bearer ${secrets.HOOK_TOKEN}' }, body: { token: '${secrets.HOOK_TOKEN}', note: 'quoted "${secrets.HOOK_TOKEN}"' } },
      },
    ]);
    const run = await driver.reach((await driver.start(id)).id);
    expect(run.status).toBe('SUCCEEDED');
    // The receiver got the value, in all three places.
    const call = seen.find((s) => s.url.startsWith('/hook'))!;
    expect(call.url).toBe(`/hook?t=${value}`);
    expect(call.authorization).toBe(`Bearer ${value}`);
    expect(JSON.parse(call.body)).toEqual({ token: value, note: `quoted "${value}"` });
    // What the stage recorded shows it masked.
    const outputs = JSON.stringify(driver.stage(run, 'hook').outputs);
    expect(outputs).toContain('Bearer ***');
    expect(outputs).not.toContain(value);

    // Searched everywhere the platform keeps or sends anything.
    const answers = JSON.stringify([
      run,
      await as(dev, 'query($id: ID!) { run(id: $id) { id status stages { refId status error outputs } } }', { id: run.id }),
      await as(dev, 'query($id: ID!) { pipeline(id: $id) { stages { config } } }', { id }),
    ]);
    expect(answers).not.toContain(value);
    expect(answers).toContain('${secrets.HOOK_TOKEN}'); // the pipeline keeps the reference, not the value
    for (const table of ['runs', 'stage_runs', 'run_history', 'outbox', 'engine_messages']) {
      const rows = await serviceQuery<{ t: string }>(platform, 'executions', `SELECT row_to_json(x)::text AS t FROM ${table} x`);
      expect({ table, leaked: rows.filter((r) => r.t.includes(value)).length }).toEqual({ table, leaked: 0 });
    }
    const environmentsRows = await serviceQuery<{ t: string }>(platform, 'environments', `SELECT row_to_json(x)::text AS t FROM resources x`);
    expect(environmentsRows.filter((r) => r.t.includes(value))).toEqual([]); // sealed at rest
    await nc.flush();
    expect(bus.filter((m) => m.includes(value))).toEqual([]);
    expect(bus.some((m) => m.includes('stage.status-changed'))).toBe(true); // the capture did see the run's events
    for (const service of [...SERVICE_NAMES, 'gateway'] as const) expect({ service, leaked: platform.processes[service].output().includes(value) }).toEqual({ service, leaked: false });
  });

  it('fails a stage that names a secret the project does not have, saying which and how to fix it', async () => {
    const id = await driver.pipeline([{ refId: 'hook', name: 'hook', type: 'WEBHOOK', config: { url: `${hookUrl}/hook`, headers: { 'x-token': '${secrets.NOPE}' } } }]);
    const run = await driver.reach((await driver.start(id)).id);
    expect(driver.stage(run, 'hook')).toMatchObject({ status: 'FAILED', attempt: 1 });
    expect(driver.stage(run, 'hook').error).toMatch(/the project has no secret named "NOPE": create it in environment settings \(Secret\), or fix the name in \$\{secrets\.NAME\}/);
  });
});
