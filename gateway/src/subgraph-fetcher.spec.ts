import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { subgraphFetcher } from './subgraph-fetcher';

describe('subgraphFetcher', () => {
  let server: Server;
  let url: string;
  const seen: { method?: string; headers: IncomingMessage['headers']; body: string; socket: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, headers: req.headers, body, socket: `${req.socket.remotePort}` });
        if (req.url === '/silent') return; // never answers (until the server closes)
        if (req.url === '/missing') {
          res.writeHead(404, 'Not Found', { 'content-type': 'text/plain' });
          res.end('no such subgraph');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=5' });
        res.end(JSON.stringify({ data: { echo: JSON.parse(body) } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('posts the body with its headers and reads the JSON answer over one kept-alive connection', async () => {
    const fetch = subgraphFetcher(10_000);
    seen.length = 0;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-pipewright-identity': `id-${i}` }, body: JSON.stringify({ query: `{ n${i} }` }) });
      expect(res.ok).toBe(true);
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toBe('application/json');
      expect(res.headers.get('cache-control')).toBe('max-age=5');
      expect(await res.json()).toEqual({ data: { echo: { query: `{ n${i} }` } } });
      expect(res.bodyUsed).toBe(true);
    }
    expect(seen.map((s) => [s.method, s.headers['x-pipewright-identity'], s.headers['content-length']])).toEqual([
      ['POST', 'id-0', String(Buffer.byteLength('{"query":"{ n0 }"}'))],
      ['POST', 'id-1', String(Buffer.byteLength('{"query":"{ n1 }"}'))],
      ['POST', 'id-2', String(Buffer.byteLength('{"query":"{ n2 }"}'))],
    ]);
    expect(new Set(seen.map((s) => s.socket)).size).toBe(1);
  });

  it('answers an HTTP error as a response that is not ok, with its status and text', async () => {
    const res = await subgraphFetcher(10_000)(`${url}/missing`, { method: 'POST', body: '{}' });
    expect([res.ok, res.status, res.statusText]).toEqual([false, 404, 'Not Found']);
    expect(await res.text()).toBe('no such subgraph');
  });

  it('gives up on a subgraph that sends nothing for the timeout, naming the setting', async () => {
    await expect(subgraphFetcher(200)(`${url}/silent`, { method: 'POST', body: '{}' })).rejects.toThrow(/sent nothing for 200 ms \(SUBGRAPH_TIMEOUT_MS\)/);
  });

  it('rejects when nothing listens, naming the cause', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(subgraphFetcher(10_000)(`http://127.0.0.1:${port}/graphql`, { method: 'POST', body: '{}' })).rejects.toThrow(/ECONNREFUSED/);
  });
});
