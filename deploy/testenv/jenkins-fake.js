#!/usr/bin/env node
// A fake Jenkins speaking the documented remote-access API, for tests (Jenkins itself cannot run
// here). Builds progress on timers inside this process.
//
//   JENKINS_USER, JENKINS_TOKEN  HTTP Basic credentials (required); anything else gets 401
//   JENKINS_PORT                 listen port on 127.0.0.1 (default 18082)
//   JENKINS_FAKE_STEP_MS         time between log lines (default 200)
//   JENKINS_FAKE_QUEUE_MS        time a build waits in the queue (default 500)
//   JENKINS_FAKE_SLOW_SECONDS    how long the `slow` job runs unless stopped (default 60)
//
// Endpoints:
//   GET  /api/json                                  {jobs:[{name,url,color}], useCrumbs:true}
//   GET  /crumbIssuer/api/json                      {crumb, crumbRequestField:"Jenkins-Crumb"}
//   GET  /job/J/api/json                            job, builds, lastBuild, nextBuildNumber
//   POST /job/J/build, /job/J/buildWithParameters   (crumb header required) 201 + Location: /queue/item/N/
//   GET  /queue/item/N/api/json                     executable:{number,url} once the build started
//   POST /queue/cancelItem?id=N                     cancels a queued item
//   GET  /job/J/N/api/json (N may be lastBuild)     {number, url, building, result, duration, timestamp, ...}
//   GET  /job/J/N/logText/progressiveText?start=B   log from byte B; X-Text-Size, X-More-Data:true while building
//   GET  /job/J/N/consoleText                       the whole log
//   POST /job/J/N/stop                              aborts (result ABORTED), 302 to the build
//
// Jobs (behaviour chosen by name; any name `<behaviour>-<suffix>` also exists, e.g. hello-1234,
// so tests can use a job of their own): hello -> SUCCESS after a few lines, fails -> FAILURE,
// unstable -> UNSTABLE, slow -> runs until stopped (or JENKINS_FAKE_SLOW_SECONDS, then SUCCESS),
// gated -> runs until a test releases it (POST /job/J/N/fake-release; not a Jenkins API), then SUCCESS.
// Every build log echoes its parameters. Node built-ins only.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');

const USER = process.env.JENKINS_USER;
const TOKEN = process.env.JENKINS_TOKEN;
const PORT = Number(process.env.JENKINS_PORT || 18082);
const STEP_MS = Number(process.env.JENKINS_FAKE_STEP_MS || 200);
const QUEUE_MS = Number(process.env.JENKINS_FAKE_QUEUE_MS || 500);
const SLOW_SECONDS = Number(process.env.JENKINS_FAKE_SLOW_SECONDS || 60);
const HOST = '127.0.0.1';
const BASE = `http://${HOST}:${PORT}`;
const VERSION = '2.440.3';
if (!USER || !TOKEN) {
  console.error('jenkins-fake: JENKINS_USER and JENKINS_TOKEN are required');
  process.exit(2);
}
const log = (...a) => console.log(new Date().toISOString(), ...a);
const CRUMB = crypto.createHmac('sha256', TOKEN).update(`crumb:${USER}`).digest('hex');

const BEHAVIOURS = {
  hello: { description: 'Succeeds after a few log lines', result: 'SUCCESS', steps: 4 },
  fails: { description: 'Fails after a few log lines', result: 'FAILURE', steps: 3 },
  unstable: { description: 'Ends UNSTABLE (test failures)', result: 'UNSTABLE', steps: 3 },
  slow: { description: 'Runs until stopped', result: 'SUCCESS', steps: null },
  gated: { description: 'Runs until released (POST .../fake-release), then succeeds', result: 'SUCCESS', steps: null, gated: true },
};
const PARAM_DEFS = [
  { name: 'GIT_REF', type: 'StringParameterDefinition', defaultValue: 'main', description: 'ref to build' },
  { name: 'MESSAGE', type: 'StringParameterDefinition', defaultValue: 'hello', description: 'echoed' },
];

/** name -> { name, behaviour, nextBuildNumber, builds: Map<number, build> } */
const jobs = new Map();
/** id -> queue item */
const queue = new Map();
let nextQueueId = 1;

function behaviourOf(name) {
  const m = /^(hello|fails|unstable|slow|gated)(?:-[A-Za-z0-9_.-]+)?$/.exec(name);
  return m ? m[1] : null;
}
function getJob(name, create = true) {
  if (jobs.has(name)) return jobs.get(name);
  const behaviour = behaviourOf(name);
  if (!behaviour || !create) return null;
  const job = { name, behaviour, nextBuildNumber: 1, builds: new Map() };
  jobs.set(name, job);
  return job;
}
for (const name of Object.keys(BEHAVIOURS)) getJob(name);

const jobUrl = (job) => `${BASE}/job/${encodeURIComponent(job.name)}/`;
const buildUrl = (job, n) => `${jobUrl(job)}${n}/`;
const queueUrl = (id) => `${BASE}/queue/item/${id}/`;

function color(job) {
  const last = lastBuild(job);
  if (!last) return 'notbuilt';
  const base = { SUCCESS: 'blue', FAILURE: 'red', UNSTABLE: 'yellow', ABORTED: 'aborted' }[last.result] || 'notbuilt';
  return last.building ? `${base}_anime` : base;
}
function lastBuild(job, pred = () => true) {
  const nums = [...job.builds.keys()].sort((a, b) => b - a);
  for (const n of nums) if (pred(job.builds.get(n))) return job.builds.get(n);
  return null;
}
const ref = (job, b) => (b ? { _class: 'hudson.model.FreeStyleBuild', number: b.number, url: buildUrl(job, b.number) } : null);

function jobJson(job) {
  const builds = [...job.builds.values()].sort((a, b) => b.number - a.number);
  const queued = [...queue.values()].find((q) => q.job === job && !q.left);
  return {
    _class: 'hudson.model.FreeStyleProject',
    name: job.name,
    fullName: job.name,
    displayName: job.name,
    description: BEHAVIOURS[job.behaviour].description,
    url: jobUrl(job),
    buildable: true,
    color: color(job),
    inQueue: Boolean(queued),
    queueItem: queued ? { id: queued.id, url: queueUrl(queued.id) } : null,
    nextBuildNumber: job.nextBuildNumber,
    builds: builds.map((b) => ref(job, b)),
    firstBuild: ref(job, builds[builds.length - 1]),
    lastBuild: ref(job, builds[0]),
    lastCompletedBuild: ref(job, lastBuild(job, (b) => !b.building)),
    lastSuccessfulBuild: ref(job, lastBuild(job, (b) => b.result === 'SUCCESS')),
    lastFailedBuild: ref(job, lastBuild(job, (b) => b.result === 'FAILURE')),
    lastUnstableBuild: ref(job, lastBuild(job, (b) => b.result === 'UNSTABLE')),
    property: [
      {
        _class: 'hudson.model.ParametersDefinitionProperty',
        parameterDefinitions: PARAM_DEFS.map((d) => ({
          _class: `hudson.model.${d.type}`,
          name: d.name,
          type: d.type,
          description: d.description,
          defaultParameterValue: { _class: 'hudson.model.StringParameterValue', name: d.name, value: d.defaultValue },
        })),
      },
    ],
  };
}

function buildJson(job, b) {
  return {
    _class: 'hudson.model.FreeStyleBuild',
    number: b.number,
    id: String(b.number),
    url: buildUrl(job, b.number),
    displayName: `#${b.number}`,
    fullDisplayName: `${job.name} #${b.number}`,
    building: b.building,
    result: b.result,
    timestamp: b.timestamp,
    duration: b.building ? 0 : b.duration,
    estimatedDuration: job.behaviour === 'slow' ? SLOW_SECONDS * 1000 : (BEHAVIOURS[job.behaviour].steps + 3) * STEP_MS,
    queueId: b.queueId,
    keepLog: false,
    builtOn: '',
    actions: [
      {
        _class: 'hudson.model.ParametersAction',
        parameters: Object.entries(b.params).map(([name, value]) => ({
          _class: 'hudson.model.StringParameterValue',
          name,
          value,
        })),
      },
      {
        _class: 'hudson.model.CauseAction',
        causes: [{ _class: 'hudson.model.Cause$RemoteCause', shortDescription: `Started by remote API user ${USER}` }],
      },
    ],
  };
}

function queueJson(q) {
  const job = q.job;
  const out = {
    _class: q.cancelled ? 'hudson.model.Queue$LeftItem' : q.left ? 'hudson.model.Queue$LeftItem' : 'hudson.model.Queue$WaitingItem',
    id: q.id,
    url: `queue/item/${q.id}/`,
    blocked: false,
    buildable: !q.left,
    stuck: false,
    cancelled: q.cancelled,
    inQueueSince: q.since,
    params: Object.entries(q.params).map(([k, v]) => `\n${k}=${v}`).join(''),
    why: q.left ? null : 'In the quiet period.',
    task: { _class: 'hudson.model.FreeStyleProject', name: job.name, url: jobUrl(job), color: color(job) },
    actions: [{ _class: 'hudson.model.ParametersAction', parameters: Object.entries(q.params).map(([name, value]) => ({ name, value })) }],
    executable: null,
  };
  if (q.buildNumber) out.executable = { _class: 'hudson.model.FreeStyleBuild', number: q.buildNumber, url: buildUrl(job, q.buildNumber) };
  return out;
}

function appendLog(b, line) {
  b.log = Buffer.concat([b.log, Buffer.from(line + '\n', 'utf8')]);
}
function finish(b, result) {
  if (!b.building) return;
  clearTimeout(b.timer);
  if (result === 'ABORTED') appendLog(b, `Aborted by ${USER}`);
  appendLog(b, `Finished: ${result}`);
  b.result = result;
  b.building = false;
  b.duration = Math.max(1, Date.now() - b.timestamp);
  log(`build ${b.job.name} #${b.number} finished ${result}`);
}

function startBuild(q) {
  const job = q.job;
  const number = job.nextBuildNumber++;
  const b = {
    job,
    number,
    queueId: q.id,
    params: q.params,
    building: true,
    result: null,
    timestamp: Date.now(),
    duration: 0,
    log: Buffer.alloc(0),
    timer: null,
  };
  job.builds.set(number, b);
  q.left = true;
  q.buildNumber = number;
  log(`build ${job.name} #${number} started (queue ${q.id})`);

  appendLog(b, `Started by remote API user ${USER}`);
  appendLog(b, 'Running as SYSTEM');
  appendLog(b, `Building in workspace /var/jenkins_home/workspace/${job.name}`);
  appendLog(b, 'Parameters:');
  for (const [k, v] of Object.entries(b.params)) appendLog(b, `  ${k}=${v}`);

  const behaviour = BEHAVIOURS[job.behaviour];
  let step = 0;
  const deadline = b.timestamp + SLOW_SECONDS * 1000;
  const tick = () => {
    if (!b.building) return;
    step += 1;
    if (behaviour.steps === null) {
      appendLog(b, `+ sleep 1   # still working (${step})`);
      if (behaviour.gated ? b.released : Date.now() >= deadline) return finish(b, 'SUCCESS');
      b.timer = setTimeout(tick, 1000);
      return;
    }
    if (step <= behaviour.steps) {
      appendLog(b, `+ echo "step ${step} of ${behaviour.steps}: ${b.params.MESSAGE ?? ''}"`);
      appendLog(b, `step ${step} of ${behaviour.steps}: ${b.params.MESSAGE ?? ''}`);
      b.timer = setTimeout(tick, STEP_MS);
      return;
    }
    if (behaviour.result === 'FAILURE') {
      appendLog(b, '+ make test');
      appendLog(b, 'ERROR: 2 tests failed');
      appendLog(b, 'Build step \'Execute shell\' marked build as failure');
    } else if (behaviour.result === 'UNSTABLE') {
      appendLog(b, 'Recording test results');
      appendLog(b, '[Checks API] No suitable checks publisher found.');
      appendLog(b, 'Build step \'Publish JUnit test result report\' changed build result to UNSTABLE');
    }
    finish(b, behaviour.result);
  };
  b.timer = setTimeout(tick, STEP_MS);
}

function enqueue(job, params) {
  const merged = {};
  for (const d of PARAM_DEFS) merged[d.name] = d.defaultValue;
  Object.assign(merged, params);
  const q = { id: nextQueueId++, job, params: merged, since: Date.now(), left: false, cancelled: false, buildNumber: null };
  queue.set(q.id, q);
  q.timer = setTimeout(() => !q.cancelled && startBuild(q), QUEUE_MS);
  log(`queued ${job.name} as item ${q.id} params=${JSON.stringify(merged)}`);
  return q;
}

// ---------------------------------------------------------------------------------------------

function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
function authenticated(req) {
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization || '');
  if (!m) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i >= 0 && safeEqual(decoded.slice(0, i), USER) && safeEqual(decoded.slice(i + 1), TOKEN);
}

function send(res, status, body, headers = {}) {
  const isJson = body !== null && typeof body === 'object';
  const data = isJson ? JSON.stringify(body) : body == null ? '' : String(body);
  res.writeHead(status, {
    'X-Jenkins': VERSION,
    'Content-Type': isJson ? 'application/json;charset=utf-8' : 'text/plain;charset=utf-8',
    'Content-Length': Buffer.byteLength(data),
    ...headers,
  });
  res.end(data);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function requestParams(req, url) {
  const params = {};
  for (const [k, v] of url.searchParams) if (k !== 'token' && k !== 'delay' && k !== 'cause') params[k] = v;
  const body = await readBody(req);
  const type = req.headers['content-type'] || '';
  if (body && type.includes('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(body);
    if (form.has('json')) {
      // /build?json={"parameter":[{"name":"A","value":"b"}]}
      try {
        const parsed = JSON.parse(form.get('json'));
        const list = Array.isArray(parsed.parameter) ? parsed.parameter : parsed.parameter ? [parsed.parameter] : [];
        for (const p of list) if (p && p.name) params[p.name] = String(p.value ?? '');
      } catch {
        /* ignore malformed json, like Jenkins builds with defaults */
      }
    }
    for (const [k, v] of form) if (k !== 'json' && k !== 'Submit' && k !== 'Jenkins-Crumb') params[k] = v;
  }
  return params;
}

async function handle(req, res) {
  const url = new URL(req.url, BASE);
  const p = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method;
  if (p === '/healthz' || p === '/login') return send(res, 200, 'ok\n');

  if (!authenticated(req)) {
    return send(res, 401, 'Invalid password/token for user\n', { 'WWW-Authenticate': 'Basic realm="Jenkins"' });
  }

  if (method === 'POST' && req.headers['jenkins-crumb'] !== CRUMB) {
    await readBody(req).catch(() => {});
    return send(res, 403, 'No valid crumb was included in the request\n');
  }

  if (method === 'GET' && (p === '/api/json' || p === '/')) {
    return send(res, 200, {
      _class: 'hudson.model.Hudson',
      mode: 'NORMAL',
      nodeDescription: 'the Jenkins fake of the Pipewright test environment',
      nodeName: '',
      numExecutors: 2,
      description: null,
      url: `${BASE}/`,
      useCrumbs: true,
      useSecurity: true,
      quietingDown: false,
      jobs: [...jobs.values()].map((j) => ({ _class: 'hudson.model.FreeStyleProject', name: j.name, url: jobUrl(j), color: color(j) })),
    });
  }
  if (method === 'GET' && p === '/crumbIssuer/api/json') {
    return send(res, 200, { _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb: CRUMB, crumbRequestField: 'Jenkins-Crumb' });
  }
  if (method === 'GET' && (p === '/me/api/json' || p === '/whoAmI/api/json')) {
    return send(res, 200, { _class: 'hudson.security.WhoAmI', name: USER, authenticated: true, authorities: ['authenticated'] });
  }

  let m = /^\/queue\/item\/(\d+)(?:\/api\/json)?$/.exec(p);
  if (m && method === 'GET') {
    const q = queue.get(Number(m[1]));
    if (!q) return send(res, 404, `queue item ${m[1]} not found\n`);
    return send(res, 200, queueJson(q));
  }
  if (p === '/queue/cancelItem' && method === 'POST') {
    const q = queue.get(Number(url.searchParams.get('id')));
    if (!q) return send(res, 404, 'no such item\n');
    if (!q.left) {
      clearTimeout(q.timer);
      q.left = true;
      q.cancelled = true;
    }
    return send(res, 204, null);
  }

  m = /^\/job\/([^/]+)(?:\/(.*))?$/.exec(p);
  if (!m) return send(res, 404, 'Not Found\n');
  const job = getJob(decodeURIComponent(m[1]));
  if (!job) return send(res, 404, `No such job: ${decodeURIComponent(m[1])}\n`);
  const rest = m[2] || '';

  if (rest === '' || rest === 'api/json') {
    if (method !== 'GET') return send(res, 405, 'Method Not Allowed\n');
    return send(res, 200, jobJson(job));
  }
  if (rest === 'build' || rest === 'buildWithParameters') {
    if (method !== 'POST') return send(res, 405, 'Method Not Allowed\n');
    const q = enqueue(job, await requestParams(req, url));
    return send(res, 201, '', { Location: queueUrl(q.id) });
  }

  m = /^(\d+|lastBuild|lastCompletedBuild|lastSuccessfulBuild|lastFailedBuild|lastUnstableBuild|firstBuild)(?:\/(.*))?$/.exec(rest);
  if (!m) return send(res, 404, 'Not Found\n');
  const id = m[1];
  const b = /^\d+$/.test(id)
    ? job.builds.get(Number(id))
    : jobJson(job)[id]
      ? job.builds.get(jobJson(job)[id].number)
      : null;
  if (!b) return send(res, 404, `No build ${id} of ${job.name}\n`);
  const sub = m[2] || '';

  if (sub === 'api/json' && method === 'GET') return send(res, 200, buildJson(job, b));
  if (sub === '' && method === 'GET') {
    return send(res, 200, `<html><body><h1>${job.name} #${b.number}</h1><p>${b.result ?? 'building'}</p></body></html>`, {
      'Content-Type': 'text/html;charset=utf-8',
    });
  }
  if (sub === 'logText/progressiveText' && method === 'GET') {
    const size = b.log.length;
    let start = Number(url.searchParams.get('start') || 0);
    if (!Number.isFinite(start) || start < 0) start = 0;
    const chunk = start >= size ? Buffer.alloc(0) : b.log.subarray(start);
    const headers = { 'X-Text-Size': String(size) };
    if (b.building) headers['X-More-Data'] = 'true';
    res.writeHead(200, { 'X-Jenkins': VERSION, 'Content-Type': 'text/plain;charset=utf-8', 'Content-Length': chunk.length, ...headers });
    return res.end(chunk);
  }
  if (sub === 'consoleText' && method === 'GET') return send(res, 200, b.log.toString('utf8'));
  if (sub === 'fake-release' && method === 'POST') {
    b.released = true;
    return send(res, 200, 'released\n');
  }
  if ((sub === 'stop' || sub === 'term' || sub === 'kill') && method === 'POST') {
    finish(b, 'ABORTED');
    return send(res, 302, '', { Location: buildUrl(job, b.number) });
  }
  return send(res, method === 'GET' ? 404 : 405, 'Not Found\n');
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    log('error', e && e.stack);
    if (!res.headersSent) send(res, 500, 'internal error\n');
  });
});
server.listen(PORT, HOST, () => log(`jenkins-fake listening on ${BASE}/ (jobs: ${[...jobs.keys()].join(', ')})`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
