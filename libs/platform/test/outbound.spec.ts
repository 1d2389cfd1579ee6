import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkOutboundUrl, outboundFetch, OutboundRefusedError, parseOutboundAllow, specialAddressKind } from '../src/outbound';

/** A loopback server: /ok answers, /to?url= redirects (status from ?status=), /big answers 100 kB. */
async function server(): Promise<{ url: string; hostPort: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const s: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url} auth=${req.headers.authorization ?? '-'}`);
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/to') {
      res.writeHead(Number(u.searchParams.get('status') ?? 302), { location: u.searchParams.get('url')! });
      return res.end();
    }
    if (u.pathname === '/big') return res.end('x'.repeat(100_000));
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => res.end(JSON.stringify({ method: req.method, body })));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, hostPort: `127.0.0.1:${port}`, hits, close: () => new Promise((r) => s.close(() => r())) };
}

describe('outbound guard', () => {
  it('names every special-purpose range, IPv4 inside IPv6 included, and passes public addresses', () => {
    expect(specialAddressKind('127.0.0.1')).toBe('a loopback address');
    expect(specialAddressKind('10.1.2.3')).toBe('a private address');
    expect(specialAddressKind('172.20.0.1')).toBe('a private address');
    expect(specialAddressKind('192.168.1.1')).toBe('a private address');
    expect(specialAddressKind('169.254.169.254')).toMatch(/link-local.*metadata/);
    expect(specialAddressKind('100.100.100.200')).toMatch(/carrier-grade/);
    expect(specialAddressKind('224.0.0.1')).toBe('a multicast address');
    expect(specialAddressKind('0.0.0.0')).toMatch(/unspecified/);
    expect(specialAddressKind('::1')).toBe('a loopback address');
    expect(specialAddressKind('fd00:ec2::254')).toMatch(/private/);
    expect(specialAddressKind('fe80::1')).toMatch(/link-local/);
    expect(specialAddressKind('::ffff:127.0.0.1')).toBe('a loopback address');
    expect(specialAddressKind('::ffff:a9fe:a9fe')).toMatch(/link-local/); // 169.254.169.254
    expect(specialAddressKind('64:ff9b::10.0.0.1')).toBe('a private address');
    expect(specialAddressKind('8.8.8.8')).toBeNull();
    expect(specialAddressKind('2606:4700::1111')).toBeNull();
    expect(specialAddressKind('172.32.0.1')).toBeNull();
  });

  it('reads OUTBOUND_ALLOW and names a bad entry', () => {
    const p = parseOutboundAllow(' 10.0.0.0/8, 127.0.0.1:8080,[::1]:9000 ,hooks.internal:443,192.168.1.5');
    expect(p.ranges.check('10.9.9.9', 'ipv4')).toBe(true);
    expect(p.ranges.check('192.168.1.5', 'ipv4')).toBe(true);
    expect(p.ranges.check('192.168.1.6', 'ipv4')).toBe(false);
    expect([...p.hostPorts]).toEqual(['127.0.0.1:8080', '::1:9000', 'hooks.internal:443']);
    expect(() => parseOutboundAllow('10.0.0.0/33')).toThrow(/OUTBOUND_ALLOW entry "10.0.0.0\/33": the prefix length must be at most 32/);
    expect(() => parseOutboundAllow('localhost')).toThrow(/OUTBOUND_ALLOW entry "localhost" is neither a CIDR .* nor host:port/);
    expect(() => parseOutboundAllow('a:99999')).toThrow(/entry "a:99999"/);
  });

  it('refuses loopback, private, link-local and metadata addresses before connecting, naming the address and the setting', async () => {
    const none = parseOutboundAllow('');
    const refusal = (url: string) => checkOutboundUrl(new URL(url), none).then(() => null, (e: OutboundRefusedError) => e);
    const metadata = await refusal('http://169.254.169.254/latest/meta-data/');
    expect(metadata).toBeInstanceOf(OutboundRefusedError);
    expect(metadata!.address).toBe('169.254.169.254');
    expect(metadata!.message).toBe(
      'refused to connect to 169.254.169.254 for http://169.254.169.254: it is a link-local address (where cloud metadata services answer), which pipelines may not reach; an operator may allow it with OUTBOUND_ALLOW (e.g. OUTBOUND_ALLOW=169.254.169.254:80)',
    );
    expect((await refusal('http://10.0.0.1:8080/'))!.message).toMatch(/^refused to connect to 10\.0\.0\.1 .* a private address/);
    expect((await refusal('http://[::ffff:127.0.0.1]:4222/'))!.address).toBe('::ffff:7f00:1');
    // A name is resolved first; what it resolves to is what is checked.
    const byName = await refusal('http://localhost:4222/');
    expect(byName!.message).toMatch(/^refused to connect to (127\.0\.0\.1|::1) \(localhost resolves to it\) for http:\/\/localhost:4222: it is a loopback address/);
    expect((await refusal('file:///etc/passwd'))!.message).toMatch(/only http and https URLs may be called \(got file:\)/);
  });

  describe('against servers on loopback', () => {
    let allowed: Awaited<ReturnType<typeof server>>;
    let other: Awaited<ReturnType<typeof server>>;
    beforeAll(async () => {
      allowed = await server();
      other = await server();
    });
    afterAll(async () => {
      await allowed.close();
      await other.close();
    });

    it('calls an allowed host:port, and nothing else on loopback', async () => {
      const policy = parseOutboundAllow(allowed.hostPort);
      const res = await outboundFetch(`${allowed.url}/ok`, { method: 'POST', body: 'hello' }, policy);
      expect(await res.json()).toEqual({ method: 'POST', body: 'hello' });
      await expect(outboundFetch(`${other.url}/ok`, {}, policy)).rejects.toThrow(new RegExp(`refused to connect to 127\\.0\\.0\\.1 for ${other.url}: it is a loopback address.*OUTBOUND_ALLOW=${other.hostPort},${allowed.hostPort}`));
      expect(other.hits).toEqual([]);
    });

    it('checks every redirect again: an allowed server that redirects to loopback is refused, naming the address', async () => {
      const policy = parseOutboundAllow(allowed.hostPort);
      const err = await outboundFetch(`${allowed.url}/to?url=${encodeURIComponent(`${other.url}/ok`)}`, {}, policy).catch((e: Error) => e);
      expect(err).toBeInstanceOf(OutboundRefusedError);
      expect((err as OutboundRefusedError).address).toBe('127.0.0.1');
      expect((err as Error).message).toContain(`for ${other.url}`);
      expect(other.hits).toEqual([]);
      // Followed when the target is allowed too; a 303 after a POST becomes a GET, and credentials stay with their origin.
      const both = parseOutboundAllow(`${allowed.hostPort},${other.hostPort}`);
      const res = await outboundFetch(`${allowed.url}/to?status=303&url=${encodeURIComponent(`${other.url}/ok`)}`, { method: 'POST', body: 'x', headers: { authorization: 'Bearer s3cret' } }, both);
      expect(await res.json()).toEqual({ method: 'GET', body: '' });
      expect(res.url).toBe(`${other.url}/ok`);
      expect(other.hits).toEqual(['GET /ok auth=-']);
      expect(allowed.hits.at(-1)).toBe(`POST /to?status=303&url=${encodeURIComponent(`${other.url}/ok`)} auth=Bearer s3cret`);
    });

    it('answers a redirect as it is when asked to (redirect: manual), and reads at most maxBytes', async () => {
      const policy = parseOutboundAllow(allowed.hostPort);
      const res = await outboundFetch(`${allowed.url}/to?url=/ok`, { redirect: 'manual' }, policy);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/ok');
      const big = await outboundFetch(`${allowed.url}/big`, { maxBytes: 1000 }, policy);
      expect(big.truncated).toBe(true);
      expect((await big.text()).length).toBe(1000);
      const whole = await outboundFetch(`${allowed.url}/big`, {}, policy);
      expect(whole.truncated).toBe(false);
      expect((await whole.text()).length).toBe(100_000);
    });

    it('allows a range by CIDR', async () => {
      const res = await outboundFetch(`${other.url}/ok`, {}, parseOutboundAllow('127.0.0.0/8'));
      expect(res.status).toBe(200);
    });
  });
});
