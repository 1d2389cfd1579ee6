import { hostPortOf, pipelineDriver, startPlatform, testEnv, type TestPlatform } from '@pipewright/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Run {
  id: string;
  status: string;
  stages: { refId: string; status: string; attempt: number; error: string | null; outputs: { status?: number } | null }[];
}

/** A server of the test's own on loopback: /ok answers; /to?url= redirects there. Counts what it is asked. */
async function hookServer(): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const s: Server = createServer((req, res) => {
    hits.push(req.url ?? '/');
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/to') return res.writeHead(302, { location: u.searchParams.get('url')! }).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, hits, close: () => new Promise((r) => s.close(() => r())) };
}

describe('WEBHOOK behind the outbound guard (OUTBOUND_ALLOW: only the test servers)', () => {
  let platform: TestPlatform;
  let token: string;
  let allowed: Awaited<ReturnType<typeof hookServer>>;
  let loopback: Awaited<ReturnType<typeof hookServer>>;
  const driver = pipelineDriver<Run>(() => platform.gatewayUrl, () => token, 'id status stages { refId status attempt error outputs }', { label: 'outbound' });

  beforeAll(async () => {
    allowed = await hookServer();
    loopback = await hookServer(); // on loopback too, but not in OUTBOUND_ALLOW
    platform = await startPlatform('outbound', {}, {}, { outbound: [hostPortOf(allowed.url)] });
    token = await platform.token({ sub: 'dev', roles: ['DEVELOPER'] });
  });
  afterAll(async () => {
    await platform?.stop();
    await allowed?.close();
    await loopback?.close();
  });

  const runHook = async (url: string) => {
    const id = await driver.pipeline([{ refId: 'hook', name: 'hook', type: 'WEBHOOK', config: { url } }]);
    return driver.stage(await driver.reach((await driver.start(id)).id), 'hook');
  };

  it.each([
    ['NATS monitoring on loopback', () => `${testEnv('NATS_MONITOR_URL')}/varz`, '127.0.0.1', 'a loopback address'],
    ['a private address', () => 'http://10.255.255.1:8080/', '10.255.255.1', 'a private address'],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'a link-local address (where cloud metadata services answer)'],
  ])('refuses %s, naming the address and OUTBOUND_ALLOW, without retrying', async (_what, url, address, kind) => {
    const stage = await runHook(url());
    expect(stage).toMatchObject({ status: 'FAILED', attempt: 1 });
    expect(stage.error).toContain(`refused to connect to ${address}`);
    expect(stage.error).toContain(`it is ${kind}, which pipelines may not reach; an operator may allow it with OUTBOUND_ALLOW`);
  });

  it('calls the allowed server, and refuses its redirect to another loopback port without reaching it', async () => {
    expect(await runHook(`${allowed.url}/ok`)).toMatchObject({ status: 'SUCCEEDED', outputs: { status: 200 } });
    const target = `${loopback.url}/ok`;
    const stage = await runHook(`${allowed.url}/to?url=${encodeURIComponent(target)}`);
    expect(stage).toMatchObject({ status: 'FAILED', attempt: 1 });
    expect(stage.error).toContain(`refused to connect to 127.0.0.1 for ${loopback.url}: it is a loopback address`);
    expect(stage.error).toContain(`OUTBOUND_ALLOW=${hostPortOf(loopback.url)}`);
    expect(allowed.hits).toEqual(['/ok', `/to?url=${encodeURIComponent(target)}`]);
    expect(loopback.hits).toEqual([]);
  });
});
