#!/usr/bin/env node
// Test Helm chart repository: serves a directory holding packaged charts and the index.yaml
// written by `helm repo index`, over plain HTTP on 127.0.0.1.
//
//   CHART_REPO_DIR       directory to serve (required)
//   CHART_REPO_PORT      listen port (default 18081)
//   CHART_REPO_USER      \ when both are set, everything under /auth/ requires HTTP Basic auth
//   CHART_REPO_PASSWORD  / with these credentials (the same charts, so both mounts are repos)
//
//   http://127.0.0.1:PORT/          anonymous repository
//   http://127.0.0.1:PORT/auth/     the same repository behind basic auth
//
// The index uses relative chart URLs, so both mounts work. Node built-ins only.
'use strict';

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const DIR = process.env.CHART_REPO_DIR;
const PORT = Number(process.env.CHART_REPO_PORT || 18081);
const USER = process.env.CHART_REPO_USER || '';
const PASSWORD = process.env.CHART_REPO_PASSWORD || '';
const HOST = '127.0.0.1';
if (!DIR) {
  console.error('chart-repo-server: CHART_REPO_DIR is required');
  process.exit(2);
}
const log = (...a) => console.log(new Date().toISOString(), ...a);

const TYPES = {
  '.yaml': 'application/x-yaml',
  '.yml': 'application/x-yaml',
  '.tgz': 'application/gzip',
  '.gz': 'application/gzip',
  '.prov': 'text/plain',
  '.json': 'application/json',
};

function safeEqual(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function authorized(req) {
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization || '');
  if (!m) return false;
  return safeEqual(Buffer.from(m[1], 'base64').toString('utf8'), `${USER}:${PASSWORD}`);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, `http://${HOST}:${PORT}`);
  let p = decodeURIComponent(url.pathname);
  if (p === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  if (p === '/auth' || p.startsWith('/auth/')) {
    if (!USER || !PASSWORD || !authorized(req)) {
      log(`401 ${req.method} ${p}`);
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="pipewright-test-charts"' }).end('unauthorized\n');
      return;
    }
    p = p.slice('/auth'.length) || '/';
  }
  if (p.endsWith('/')) p += 'index.yaml';
  const file = path.resolve(DIR, '.' + path.posix.normalize(p));
  if (!file.startsWith(path.resolve(DIR) + path.sep)) {
    res.writeHead(400).end('bad path\n');
    return;
  }
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) {
      log(`404 ${req.method} ${url.pathname}`);
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    log(`200 ${req.method} ${url.pathname}`);
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
      'Content-Length': st.size,
      'Last-Modified': st.mtime.toUTCString(),
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });
});

server.listen(PORT, HOST, () => log(`chart-repo-server on http://${HOST}:${PORT}/ serving ${DIR}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
