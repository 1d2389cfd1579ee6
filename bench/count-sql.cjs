// Preloaded into each service by bench.mjs (NODE_OPTIONS=--require): counts the SQL statements the
// process sends through node-postgres and serves the counts as JSON on 127.0.0.1:$BENCH_SQL_COUNT_PORT.
// pg_stat_statements is not loaded on the test PostgreSQL (loading it needs a server restart), so the
// count is taken in the driver: every Client#query is one statement sent to the server, whoever
// issued it (TypeORM's pooled connections, a LISTEN connection, the outbox relay), BEGIN/START
// TRANSACTION, COMMIT and ROLLBACK included. Only the bench loads this; the services know nothing of it.
'use strict';
const Module = require('node:module');
const http = require('node:http');

const counts = { total: 0, byKind: {}, byText: {} };
const patched = new WeakSet();

/** The statement's first keyword: SELECT, INSERT, UPDATE, DELETE, WITH, BEGIN, COMMIT, LISTEN, ... */
function kindOf(query) {
  const text = typeof query === 'string' ? query : query && typeof query.text === 'string' ? query.text : '';
  const word = (/^\s*([a-z]+)/i.exec(text)?.[1] ?? 'OTHER').toUpperCase();
  return word === 'START' ? 'BEGIN' : word;
}

function patch(pg) {
  const proto = pg && pg.Client && pg.Client.prototype;
  if (!proto || patched.has(proto)) return;
  patched.add(proto);
  const query = proto.query;
  proto.query = function countedQuery(config, ...rest) {
    counts.total++;
    const kind = kindOf(config);
    counts.byKind[kind] = (counts.byKind[kind] ?? 0) + 1;
    // The statement's start, whitespace folded: which statements the count is made of.
    const text = (typeof config === 'string' ? config : (config?.text ?? '')).replace(/\s+/g, ' ').trim().slice(0, 90);
    counts.byText[text] = (counts.byText[text] ?? 0) + 1;
    return query.call(this, config, ...rest);
  };
}

// Hooked at load rather than patched here, so that whichever copy of `pg` a service resolves is counted.
const load = Module._load;
Module._load = function countingLoad(request, ...rest) {
  const exported = load.call(this, request, ...rest);
  if (request === 'pg') patch(exported);
  return exported;
};

const port = Number(process.env.BENCH_SQL_COUNT_PORT);
if (port) {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(counts));
  });
  server.listen(port, '127.0.0.1');
  server.unref(); // never what keeps a stopping service alive
}
