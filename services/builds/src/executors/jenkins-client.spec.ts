import { parseOutboundAllow } from '@pipewright/platform';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Backoff, JenkinsClient, JenkinsHttpError } from './jenkins-client';

/** The spec's own server on loopback is allowed, as OUTBOUND_ALLOW would allow it. */
const outbound = parseOutboundAllow('127.0.0.1/32');

const tool = (url: string) => ({ id: '00000000-0000-4000-8000-000000000000', name: 'ci', kind: 'JENKINS' as const, url, username: 'u', apiToken: 't' });

describe('Backoff', () => {
  it('starts at 250 ms, grows ×1.5 and stops at 5 s', () => {
    const b = new Backoff();
    const delays = Array.from({ length: 10 }, () => b.next());
    expect(delays.slice(0, 4)).toEqual([250, 375, 563, 845]);
    expect(delays[delays.length - 1]).toBe(5000);
    b.reset();
    expect(b.next()).toBe(250);
  });
});

describe('JenkinsClient', () => {
  it('maps folders to nested /job/ segments', () => {
    const c = new JenkinsClient(tool('https://ci.example.com/jenkins'), { outbound });
    expect(c.jobUrl('team a/app')).toBe('https://ci.example.com/jenkins/job/team%20a/job/app/');
  });

  describe('against a flaky server', () => {
    let server: Server;
    let base: string;
    const answers: (number | 'reset')[] = [];
    const seen: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push(`${req.method} ${req.url} crumb=${req.headers['jenkins-crumb'] ?? '-'}`);
        if (req.url === '/crumbIssuer/api/json') return res.writeHead(404).end();
        const next = answers.shift() ?? 200;
        if (next === 'reset') return req.socket.destroy();
        res.writeHead(next, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: next === 200 }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('retries 5xx and reset connections while polling', async () => {
      answers.push(503, 'reset', 502);
      const retries: string[] = [];
      const c = new JenkinsClient(tool(base), { onRetry: (m) => retries.push(m), outbound });
      const signal = new AbortController().signal;
      await expect(c.retrying('polling', signal, () => c.json(`${base}x/api/json`, signal))).resolves.toEqual({ ok: true });
      expect(retries).toHaveLength(1);
    });

    it('gives up after the retry window and does not retry a 4xx', async () => {
      const c = new JenkinsClient(tool(base), { retryWindowMs: 300, outbound });
      const signal = new AbortController().signal;
      answers.push(...Array(50).fill(500));
      await expect(c.retrying('polling', signal, () => c.json(`${base}y/api/json`, signal))).rejects.toBeInstanceOf(JenkinsHttpError);
      answers.length = 0;
      answers.push(404, 200);
      await expect(c.retrying('polling', signal, () => c.json(`${base}z/api/json`, signal))).rejects.toMatchObject({ status: 404 });
      expect(answers).toEqual([200]);
      answers.length = 0;
    });

    it('POSTs without a crumb when the crumb issuer answers 404 (CSRF protection off)', async () => {
      const c = new JenkinsClient(tool(base), { outbound });
      await c.post(`${base}job/a/build`);
      expect(seen).toContain('POST /job/a/build crumb=-');
    });
  });
});
