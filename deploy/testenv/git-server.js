#!/usr/bin/env node
// Test git host: serves the bare repositories under GIT_ROOT over smart HTTP by running
// `git http-backend` as a CGI program, behind a token check (stands in for GitHub / GitLab).
//
//   GIT_ROOT   directory of bare repositories (required)
//   GIT_TOKEN  the token (required): HTTP Basic password (any user name) or `Bearer <token>`
//   GIT_PORT   listen port on 127.0.0.1 (default 18080)
//
// Clone and push both work (http.receivepack is forced on). Plain CommonJS, Node built-ins only.
'use strict';

const http = require('node:http');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');

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
  log(`${req.method} ${url.pathname}${url.search} user=${user}`);
  runBackend(req, res, user, url);
});

server.listen(PORT, HOST, () => log(`git-server listening on http://${HOST}:${PORT}, root ${ROOT}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
