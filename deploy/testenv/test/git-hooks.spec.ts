// The test git server sends GitHub's `push` webhooks: a hook registered through its GitHub-style
// API gets one signed event per ref a `git push` updates (a branch, a new tag, a deleted tag).
// Run `deploy/testenv/up` first.
import { createGitRepository, testEnv, waitFor, type TestRepository } from '@pipewright/testing';
import { execFile } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ZERO = '0'.repeat(40);

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  payload: { ref: string; before: string; after: string; created: boolean; deleted: boolean; head_commit: { id: string; message: string; added: string[] } | null; commits: { id: string }[]; repository: { name: string; clone_url: string; default_branch: string }; pusher: { name: string } };
}

describe('the test git server sends GitHub push webhooks', () => {
  let server: Server;
  let hookUrl: string;
  let repo: TestRepository;
  let work: string;
  const received: Received[] = [];
  const secret = `hook-${randomBytes(8).toString('hex')}`;
  const name = `hooks-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const api = `${testEnv('GIT_URL')}/api/v3/repos/pipewright/${name}/hooks`;
  const auth = { authorization: `Bearer ${testEnv('GIT_TOKEN')}` };

  const git = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile('git', ['-C', work, '-c', `http.extraHeader=Authorization: Bearer ${testEnv('GIT_TOKEN')}`, '-c', 'user.name=alice', '-c', 'user.email=alice@pipewright.invalid', ...args], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: work, GIT_TERMINAL_PROMPT: '0' } }, (err, stdout, stderr) =>
        err ? reject(new Error(`git ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout.trim()),
      ),
    );

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ headers: req.headers, body, payload: JSON.parse(body) as Received['payload'] });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    repo = await createGitRepository(name, { 'README.md': 'hooks\n' });
    work = mkdtempSync(join(tmpdir(), 'pw-git-hooks-'));
    await git(['clone', '--quiet', repo.url, '.']);
  });
  afterAll(async () => {
    repo?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
    await new Promise((r) => server?.close(r));
  });

  const signatureOk = (r: Received) => {
    const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`);
    const got = Buffer.from(String(r.headers['x-hub-signature-256'] ?? ''));
    return got.length === want.length && timingSafeEqual(got, want);
  };

  it('registers a hook through the GitHub-style API, and refuses one without a URL', async () => {
    const created = await fetch(api, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'web', active: true, events: ['push'], config: { url: hookUrl, content_type: 'json', secret } }) });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: 1, active: true, events: ['push'], config: { url: hookUrl, content_type: 'json' } });
    const bad = await fetch(api, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ config: {} }) });
    expect(bad.status).toBe(422);
    expect((await fetch(api)).status).toBe(401); // the API needs the token like git does
    const listed = (await (await fetch(api, { headers: auth })).json()) as unknown[];
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  it('sends one signed push event per updated ref: a branch, a new tag, a deleted tag', async () => {
    const before = await git(['rev-parse', 'HEAD']);
    writeFileSync(join(work, 'app.txt'), 'v1\n');
    await git(['add', 'app.txt']);
    await git(['commit', '--quiet', '-m', 'add the app']);
    const after = await git(['rev-parse', 'HEAD']);
    await git(['push', '--quiet', 'origin', 'main']);
    await waitFor('the push event for main', () => received.length >= 1, 15_000);
    const push = received[0];
    expect(push.headers).toMatchObject({ 'x-github-event': 'push', 'content-type': 'application/json', 'user-agent': expect.stringMatching(/^GitHub-Hookshot\//) });
    expect(push.headers['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(signatureOk(push)).toBe(true);
    expect(push.payload).toMatchObject({
      ref: 'refs/heads/main',
      before,
      after,
      created: false,
      deleted: false,
      head_commit: { id: after, message: 'add the app', added: ['app.txt'] },
      repository: { name, clone_url: repo.url, default_branch: 'main' },
    });
    expect(push.payload.commits.map((c) => c.id)).toEqual([after]);

    await git(['tag', 'v1.0.0']);
    await git(['push', '--quiet', 'origin', 'v1.0.0']);
    await waitFor('the push event for the tag', () => received.length >= 2, 15_000);
    expect(received[1].payload).toMatchObject({ ref: 'refs/tags/v1.0.0', before: ZERO, after, created: true, deleted: false });
    expect(signatureOk(received[1])).toBe(true);

    await git(['push', '--quiet', 'origin', ':refs/tags/v1.0.0']);
    await waitFor('the push event for the deleted tag', () => received.length >= 3, 15_000);
    expect(received[2].payload).toMatchObject({ ref: 'refs/tags/v1.0.0', before: after, after: ZERO, created: false, deleted: true, head_commit: null });

    // Each delivery is recorded with the receiver's answer, and the deliveries differ.
    const deliveries = (await (await fetch(`${api}/1/deliveries`, { headers: auth })).json()) as { guid: string; status_code: number; event: string }[];
    expect(deliveries.map((d) => [d.event, d.status_code])).toEqual([['push', 200], ['push', 200], ['push', 200]]);
    expect(new Set(received.map((r) => r.headers['x-github-delivery'])).size).toBe(3);
  });
});
