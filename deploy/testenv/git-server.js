#!/usr/bin/env node
// Test git host: serves the bare repositories under GIT_ROOT over smart HTTP by running
// `git http-backend` as a CGI program, behind a token check (stands in for GitHub / GitLab).
//
//   GIT_ROOT   directory of bare repositories (required)
//   GIT_TOKEN  the token (required): HTTP Basic password (any user name) or `Bearer <token>`
//   GIT_PORT   listen port on 127.0.0.1 (default 18080)
//
// Clone and push both work (http.receivepack is forced on). Plain CommonJS, Node built-ins only.
//
// Webhooks, as GitHub sends them (a repository <name>.git is GitHub's <any owner>/<name>):
//   POST   /api/v3/repos/:owner/:repo/hooks   {config: {url, secret}, events: ["push"], active}
//                                             201 {id, type, name, active, events, config: {url, content_type}}
//   GET    /api/v3/repos/:owner/:repo/hooks   the hooks
//   DELETE /api/v3/repos/:owner/:repo/hooks/:id
//   GET    /api/v3/repos/:owner/:repo/hooks/:id/deliveries   [{id, guid, delivered_at, status_code, event, action}]
// After every push, each active hook of the repository gets one `push` event per updated ref
// (branch or tag; created, updated or deleted), in the shape of GitHub's documented payload,
// with X-GitHub-Event, X-GitHub-Delivery and X-Hub-Signature-256 (HMAC-SHA256 of the body with
// the hook's secret). Hooks are kept in the bare repository (pw-hooks.json), so a restart keeps them.
'use strict';

const http = require('node:http');
const { spawn, execFile } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = process.env.GIT_ROOT;
const TOKEN = process.env.GIT_TOKEN;
const PORT = Number(process.env.GIT_PORT || 18080);
const HOST = '127.0.0.1';
if (!ROOT || !TOKEN) {
  console.error('git-server: GIT_ROOT and GIT_TOKEN are required');
  process.exit(2);
}

const log = (...a) => console.log(new Date().toISOString(), ...a);

function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Returns the user name when the request carries the token, else null. */
function authenticate(req) {
  const h = req.headers.authorization || '';
  const bearer = /^Bearer\s+(.+)$/i.exec(h);
  if (bearer) return safeEqual(bearer[1].trim(), TOKEN) ? 'token' : null;
  const basic = /^Basic\s+(.+)$/i.exec(h);
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return null;
    const user = decoded.slice(0, i) || 'git';
    return safeEqual(decoded.slice(i + 1), TOKEN) ? user : null;
  }
  return null;
}

function runBackend(req, res, user, url) {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME || '/tmp',
    GIT_PROJECT_ROOT: ROOT,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
    // Enable push for every repository, and let root serve repositories owned by anyone.
    GIT_CONFIG_COUNT: '3',
    GIT_CONFIG_KEY_0: 'http.receivepack',
    GIT_CONFIG_VALUE_0: 'true',
    GIT_CONFIG_KEY_1: 'safe.directory',
    GIT_CONFIG_VALUE_1: '*',
    GIT_CONFIG_KEY_2: 'http.uploadpack',
    GIT_CONFIG_VALUE_2: 'true',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_SOFTWARE: 'pipewright-test-git',
    SERVER_NAME: HOST,
    SERVER_PORT: String(PORT),
    REQUEST_METHOD: req.method,
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REMOTE_ADDR: req.socket.remoteAddress || '',
    REMOTE_USER: user,
    AUTH_TYPE: 'Basic',
    CONTENT_TYPE: req.headers['content-type'] || '',
  };
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
  if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  if (req.headers['git-protocol']) env.GIT_PROTOCOL = req.headers['git-protocol'];

  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.on('error', (e) => {
    log('spawn failed', e.message);
    if (!res.headersSent) res.writeHead(500).end('git http-backend failed\n');
  });
  req.pipe(child.stdin);
  child.stdin.on('error', () => {});

  // Parse the CGI response: headers up to a blank line, then the body streamed through.
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    let sep = head.indexOf('\r\n\r\n');
    let sepLen = 4;
    const lf = head.indexOf('\n\n');
    if (lf >= 0 && (sep < 0 || lf < sep)) {
      sep = lf;
      sepLen = 2;
    }
    if (sep < 0) return;
    headersDone = true;
    let status = 200;
    const headers = {};
    for (const line of head.slice(0, sep).toString('latin1').split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const k = line.slice(0, i).trim();
      const v = line.slice(i + 1).trim();
      if (k.toLowerCase() === 'status') status = parseInt(v, 10) || 200;
      else headers[k] = v;
    }
    res.writeHead(status, headers);
    const rest = head.slice(sep + sepLen);
    if (rest.length) res.write(rest);
  });
  child.on('close', (code) => {
    if (!headersDone) {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`git http-backend exited ${code}\n${stderr}`);
    } else {
      res.end();
    }
    if (code !== 0 || stderr.trim()) log(`${req.method} ${url.pathname} exit=${code} ${stderr.trim()}`);
  });
}

// ---------------------------------------------------------------------------------- webhooks

const ZERO = '0000000000000000000000000000000000000000';
const deliveries = new Map(); // `<repo dir>#<hook id>` -> [{id, guid, delivered_at, status_code, event, action}]

function git(repoDir, args) {
  return new Promise((resolve, reject) =>
    execFile('git', ['--git-dir', repoDir, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME || '/tmp', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'safe.directory', GIT_CONFIG_VALUE_0: '*' }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
}

/** The bare repository a GitHub-style owner/repo names, or null. */
function repoDirOf(repo) {
  if (!/^[A-Za-z0-9._-]+$/.test(repo) || repo.includes('..')) return null;
  const dir = path.join(ROOT, repo.endsWith('.git') ? repo : `${repo}.git`);
  return fs.existsSync(dir) ? dir : null;
}

const hooksFile = (repoDir) => path.join(repoDir, 'pw-hooks.json');
function readHooks(repoDir) {
  try {
    return JSON.parse(fs.readFileSync(hooksFile(repoDir), 'utf8'));
  } catch {
    return [];
  }
}
const shown = (h) => ({ id: h.id, type: 'Repository', name: 'web', active: h.active, events: h.events, config: { url: h.url, content_type: 'json', insecure_ssl: '0' } });

async function refsOf(repoDir) {
  const out = await git(repoDir, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags']).catch(() => '');
  const refs = new Map();
  for (const line of out.split('\n')) {
    const [sha, ref] = line.split(' ');
    if (sha && ref) refs.set(ref, sha);
  }
  return refs;
}

async function commitOf(repoDir, sha, repoUrl) {
  const fmt = ['%H', '%T', '%an', '%ae', '%cn', '%ce', '%aI', '%B'].join('%x00');
  const out = await git(repoDir, ['show', '-s', `--format=${fmt}`, sha]);
  const [id, tree, an, ae, cn, ce, at, message] = out.split('\0');
  const files = (await git(repoDir, ['diff-tree', '--no-commit-id', '--name-status', '-r', '--root', sha]).catch(() => '')).split('\n').filter(Boolean);
  const pick = (status) => files.filter((f) => f.startsWith(status)).map((f) => f.split('\t').pop());
  return {
    id, tree_id: tree, distinct: true, message: message.replace(/\n+$/, ''), timestamp: at, url: `${repoUrl}/commit/${id}`,
    author: { name: an, email: ae, username: an }, committer: { name: cn, email: ce, username: cn },
    added: pick('A'), removed: pick('D'), modified: pick('M'),
  };
}

/** GitHub's `push` payload for one updated ref. */
async function pushPayload(repoDir, repo, ref, before, after, pusher) {
  const base = `http://${HOST}:${PORT}`;
  const name = path.basename(repoDir).replace(/\.git$/, '');
  const repoUrl = `${base}/${name}`;
  const head = (await git(repoDir, ['symbolic-ref', '--short', 'HEAD']).catch(() => 'main')).trim() || 'main';
  let shas = [];
  if (after !== ZERO) {
    // A new ref: its commits that no other branch or tag has (as GitHub lists them).
    const short = ref.replace(/^refs\/(heads|tags)\//, '');
    const range = before === ZERO ? [after, '--not', `--exclude=${short}`, '--branches', `--exclude=${short}`, '--tags'] : [`${before}..${after}`];
    shas = (await git(repoDir, ['rev-list', '--reverse', '--max-count=20', ...range]).catch(() => '')).split('\n').filter(Boolean);
  }
  const commits = [];
  for (const sha of shas) commits.push(await commitOf(repoDir, sha, repoUrl));
  const headCommit = after === ZERO ? null : await commitOf(repoDir, after, repoUrl);
  return {
    ref, before, after,
    created: before === ZERO, deleted: after === ZERO, forced: false,
    base_ref: null,
    compare: `${repoUrl}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits, head_commit: headCommit,
    repository: {
      id: parseInt(crypto.createHash('sha1').update(name).digest('hex').slice(0, 8), 16), node_id: `R_${name}`,
      name, full_name: `${repo.owner}/${name}`, private: true,
      owner: { name: repo.owner, login: repo.owner },
      html_url: repoUrl, url: repoUrl, clone_url: `${base}/${name}.git`, git_url: `${base}/${name}.git`,
      default_branch: head, master_branch: head,
    },
    pusher: { name: pusher, email: `${pusher}@pipewright.invalid` },
    sender: { login: pusher, type: 'User' },
  };
}

/** Posts an event to every active hook of the repository; each delivery is recorded. */
async function deliver(repoDir, event, payload) {
  for (const hook of readHooks(repoDir).filter((h) => h.active && (h.events.includes(event) || h.events.includes('*')))) {
    const body = JSON.stringify(payload);
    const guid = crypto.randomUUID();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/pipewright-test',
      'x-github-event': event,
      'x-github-delivery': guid,
      'x-github-hook-id': String(hook.id),
      ...(hook.secret ? { 'x-hub-signature-256': `sha256=${crypto.createHmac('sha256', hook.secret).update(body).digest('hex')}` } : {}),
    };
    let status = 0;
    try {
      const res = await fetch(hook.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      log(`hook ${hook.id} -> ${hook.url}: ${err.message}`);
    }
    const key = `${repoDir}#${hook.id}`;
    const list = deliveries.get(key) || [];
    list.unshift({ id: list.length + 1, guid, delivered_at: new Date().toISOString(), status_code: status, event, action: null });
    deliveries.set(key, list.slice(0, 100));
    log(`delivered ${event} ${guid} for ${payload.ref} to hook ${hook.id}: ${status || 'no answer'}`);
  }
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(value === undefined ? '' : JSON.stringify(value));
}

function hooksApi(req, res, url) {
  const m = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/hooks(?:\/(\d+))?(\/deliveries)?$/.exec(url.pathname);
  if (!m) return json(res, 404, { message: 'Not Found' });
  const repoDir = repoDirOf(m[2]);
  if (!repoDir) return json(res, 404, { message: 'Not Found' });
  const hooks = readHooks(repoDir);
  const id = m[3] ? Number(m[3]) : null;
  if (req.method === 'GET' && id === null) return json(res, 200, hooks.map(shown));
  if (req.method === 'GET' && m[4]) return json(res, 200, deliveries.get(`${repoDir}#${id}`) || []);
  if (req.method === 'DELETE' && id !== null) {
    fs.writeFileSync(hooksFile(repoDir), JSON.stringify(hooks.filter((h) => h.id !== id)));
    return json(res, 204);
  }
  if (req.method === 'POST' && id === null) {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      let input;
      try {
        input = JSON.parse(text || '{}');
      } catch {
        return json(res, 400, { message: 'Problems parsing JSON' });
      }
      const hookUrl = input.config && input.config.url;
      if (typeof hookUrl !== 'string' || !/^https?:\/\//.test(hookUrl)) return json(res, 422, { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', field: 'config.url', message: 'url is missing or not http(s)' }] });
      const hook = { id: Math.max(0, ...hooks.map((h) => h.id)) + 1, url: hookUrl, secret: (input.config && input.config.secret) || '', events: Array.isArray(input.events) && input.events.length ? input.events : ['push'], active: input.active !== false };
      fs.writeFileSync(hooksFile(repoDir), JSON.stringify([...hooks, hook]), { mode: 0o600 });
      json(res, 201, shown(hook));
    });
    return;
  }
  json(res, 405, { message: 'Method Not Allowed' });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, `http://${HOST}:${PORT}`);
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    return;
  }
  const user = authenticate(req);
  if (!user) {
    log(`401 ${req.method} ${url.pathname}`);
    res
      .writeHead(401, {
        'WWW-Authenticate': 'Basic realm="pipewright-test-git"',
        'Content-Type': 'text/plain',
      })
      .end('authentication required\n');
    return;
  }
  if (url.pathname.includes('..')) {
    res.writeHead(400).end('bad path\n');
    return;
  }
  if (url.pathname.startsWith('/api/v3/')) return hooksApi(req, res, url);
  log(`${req.method} ${url.pathname}${url.search} user=${user}`);
  // A push: the refs before and after it are compared once git has taken it, and each hook told.
  const push = req.method === 'POST' && url.pathname.endsWith('/git-receive-pack') ? repoDirOf(url.pathname.split('/')[1] || '') : null;
  if (!push) return runBackend(req, res, user, url);
  refsOf(push).then((before) => {
    res.on('finish', async () => {
      const after = await refsOf(push);
      for (const ref of new Set([...before.keys(), ...after.keys()])) {
        const a = before.get(ref) || ZERO;
        const b = after.get(ref) || ZERO;
        if (a === b) continue;
        const payload = await pushPayload(push, { owner: 'pipewright' }, ref, a, b, user === 'token' ? 'git' : user).catch((err) => log(`push payload for ${ref}: ${err.message}`));
        if (payload) await deliver(push, 'push', payload);
      }
    });
    runBackend(req, res, user, url);
  });
});

server.listen(PORT, HOST, () => log(`git-server listening on http://${HOST}:${PORT}, root ${ROOT}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
