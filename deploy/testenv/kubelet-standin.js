#!/usr/bin/env node
// Kubelet stand-in for the test cluster. No scheduler and no kubelet run there, so this process:
//   - registers the Node `standin` (Ready) and keeps its heartbeat fresh;
//   - watches pods in all namespaces and binds unscheduled ones to that node;
//   - marks bound pods Running and Ready (podIP, conditions, containerStatuses);
//   - force-deletes (grace period 0) pods that have a deletionTimestamp, since nobody else
//     would finish their termination;
//   - fails a pod on request: a pod annotated `testenv.pipewright.dev/fail: <Reason>` (put it on a
//     Deployment's pod template) stays Running but not Ready, its containers waiting with that
//     reason (e.g. CrashLoopBackOff) and a message, restartCount > 0.
// It re-lists and re-watches whenever a watch ends, and re-lists every RESYNC_SECONDS anyway.
//
//   KUBECONFIG      kubeconfig with rights on nodes and pods (required)
//   STANDIN_NODE    node name (default standin)
//   STANDIN_PORT    health endpoint on 127.0.0.1 (default 18083): GET /healthz
//
// Plain CommonJS; run with `node deploy/testenv/kubelet-standin.js` so that
// @kubernetes/client-node (0.22.x) resolves from the repository's node_modules.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const k8s = require('@kubernetes/client-node');

const NODE = process.env.STANDIN_NODE || 'standin';
const PORT = Number(process.env.STANDIN_PORT || 18083);
const RESYNC_SECONDS = Number(process.env.STANDIN_RESYNC_SECONDS || 30);
const FAIL_ANNOTATION = 'testenv.pipewright.dev/fail';
const KUBELET_VERSION = 'v1.20.2';

const kc = new k8s.KubeConfig();
if (process.env.KUBECONFIG) kc.loadFromFile(process.env.KUBECONFIG);
else kc.loadFromDefault();
const core = kc.makeApiClient(k8s.CoreV1Api);
const watcher = new k8s.Watch(kc);
const MERGE = { headers: { 'Content-Type': k8s.PatchUtils.PATCH_FORMAT_JSON_MERGE_PATCH } };

const log = (...a) => console.log(new Date().toISOString(), ...a);
const errText = (e) => {
  if (!e) return 'unknown error';
  const body = e.body || (e.response && e.response.body);
  if (body && typeof body === 'object' && body.message) return `${e.statusCode || body.code}: ${body.message}`;
  return e.message || String(e);
};
const statusCode = (e) => (e && (e.statusCode || (e.response && e.response.statusCode) || (e.body && e.body.code))) || 0;
const iso = (d = new Date()) => new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const health = { nodeRegistered: false, watching: false, lastList: 0, handled: 0, errors: 0 };

// ----------------------------------------------------------------------------------------- node

function nodeStatus() {
  const now = iso();
  const cond = (type, status, reason, message) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: startedAt,
  });
  return {
    capacity: { cpu: '8', memory: '16Gi', pods: '250', 'ephemeral-storage': '100Gi' },
    allocatable: { cpu: '8', memory: '16Gi', pods: '250', 'ephemeral-storage': '100Gi' },
    conditions: [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'pipewright kubelet stand-in is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: NODE },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: 'standin',
      systemUUID: 'standin',
      bootID: bootId,
      kernelVersion: 'standin',
      osImage: 'Pipewright kubelet stand-in',
      containerRuntimeVersion: 'standin://1.0',
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}
const startedAt = iso();
const bootId = crypto.randomUUID();

async function registerNode() {
  const labels = {
    'kubernetes.io/hostname': NODE,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'node.kubernetes.io/instance-type': 'standin',
  };
  try {
    await core.readNode(NODE);
  } catch (e) {
    if (statusCode(e) !== 404) throw e;
    try {
      // The status goes in with the heartbeat patch below (typed bodies want Date objects).
      await core.createNode({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels }, spec: {} });
      log(`registered node ${NODE}`);
    } catch (e2) {
      if (statusCode(e2) !== 409) throw e2;
    }
  }
  await heartbeat();
  health.nodeRegistered = true;
}

async function heartbeat() {
  await core.patchNodeStatus(NODE, { status: nodeStatus() }, undefined, undefined, undefined, undefined, undefined, MERGE);
}

// ----------------------------------------------------------------------------------------- pods

const get = (o, ...path) => path.reduce((x, k) => (x == null ? undefined : x[k]), o);
const ts = (v) => (v == null ? undefined : v instanceof Date ? iso(v) : String(v));

function podIp(uid) {
  const h = crypto.createHash('sha256').update(uid).digest();
  return `10.244.${h[0]}.${(h[1] % 253) + 2}`;
}
function containerId(uid, name) {
  return `containerd://${crypto.createHash('sha256').update(`${uid}/${name}`).digest('hex')}`;
}
function imageId(image) {
  const digest = crypto.createHash('sha256').update(String(image)).digest('hex');
  return `${String(image).replace(/[:@].*$/, '')}@sha256:${digest}`;
}

/** The status a kubelet would post for this pod now. */
function desiredStatus(pod) {
  const now = iso();
  const prev = pod.status || {};
  const uid = pod.metadata.uid;
  const failReason = get(pod, 'metadata', 'annotations', FAIL_ANNOTATION);
  const ready = !failReason;
  const startTime = ts(prev.startTime) || now;
  const prevCond = (type) => (prev.conditions || []).find((c) => c.type === type);
  const condition = (type, ok, reason, message) => {
    const status = ok ? 'True' : 'False';
    const p = prevCond(type);
    const c = {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: p && p.status === status && p.lastTransitionTime ? ts(p.lastTransitionTime) : now,
    };
    if (!ok) Object.assign(c, { reason, message });
    return c;
  };
  const containers = get(pod, 'spec', 'containers') || [];
  const names = containers.map((c) => c.name);
  const prevStatus = (name) => (prev.containerStatuses || []).find((s) => s.name === name);
  const containerStatuses = containers.map((c) => {
    const p = prevStatus(c.name);
    const base = { name: c.name, image: c.image, imageID: imageId(c.image), containerID: containerId(uid, c.name) };
    if (ready) {
      const startedAt = get(p, 'state', 'running', 'startedAt');
      return { ...base, ready: true, started: true, restartCount: 0, state: { running: { startedAt: ts(startedAt) || now } } };
    }
    return {
      ...base,
      ready: false,
      started: false,
      restartCount: Math.max(3, (p && p.restartCount) || 0),
      state: {
        waiting: {
          reason: failReason,
          message: `back-off 40s restarting failed container=${c.name} pod=${pod.metadata.name} (testenv: ${FAIL_ANNOTATION}=${failReason})`,
        },
      },
      lastState: {
        terminated: {
          exitCode: 1,
          reason: 'Error',
          message: `testenv: container ${c.name} told to fail`,
          startedAt: startTime,
          finishedAt: startTime,
          containerID: base.containerID,
        },
      },
    };
  });
  const initContainerStatuses = (get(pod, 'spec', 'initContainers') || []).map((c) => ({
    name: c.name,
    image: c.image,
    imageID: imageId(c.image),
    containerID: containerId(uid, c.name),
    ready: true,
    restartCount: 0,
    state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: startTime, finishedAt: startTime } },
  }));
  const notReadyMsg = `containers with unready status: [${names.join(' ')}]`;
  const status = {
    phase: 'Running',
    hostIP: '127.0.0.1',
    podIP: podIp(uid),
    podIPs: [{ ip: podIp(uid) }],
    startTime,
    qosClass: prev.qosClass || 'BestEffort',
    conditions: [
      condition('Initialized', true),
      condition('Ready', ready, 'ContainersNotReady', notReadyMsg),
      condition('ContainersReady', ready, 'ContainersNotReady', notReadyMsg),
      condition('PodScheduled', true),
    ],
    containerStatuses,
  };
  if (initContainerStatuses.length) status.initContainerStatuses = initContainerStatuses;
  return status;
}

/** What matters for deciding whether the posted status is already right (times excluded). */
function signature(status) {
  const s = status || {};
  return JSON.stringify({
    phase: s.phase,
    podIP: s.podIP,
    conditions: (s.conditions || []).map((c) => `${c.type}=${c.status}`).sort(),
    containers: (s.containerStatuses || []).map((c) => {
      const st = c.state || {};
      const kind = st.running ? 'running' : st.waiting ? `waiting:${st.waiting.reason}` : st.terminated ? 'terminated' : '?';
      return `${c.name}:${c.ready}:${kind}:${(c.restartCount || 0) > 0}:${c.image}`;
    }),
  });
}

async function handlePod(pod) {
  const { name, namespace, uid } = pod.metadata;
  const id = `${namespace}/${name}`;
  if (pod.metadata.deletionTimestamp) {
    try {
      await core.deleteNamespacedPod(name, namespace, undefined, undefined, 0, undefined, undefined, {
        gracePeriodSeconds: 0,
        preconditions: { uid },
      });
      log(`deleted ${id} (grace period 0)`);
    } catch (e) {
      if (statusCode(e) !== 404 && statusCode(e) !== 409) throw e;
    }
    return;
  }
  const nodeName = get(pod, 'spec', 'nodeName');
  if (!nodeName) {
    try {
      await core.createNamespacedPodBinding(name, namespace, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: NODE },
      });
      log(`bound ${id} to ${NODE}`);
    } catch (e) {
      if (statusCode(e) !== 404 && statusCode(e) !== 409) throw e;
    }
    return; // the MODIFIED event that follows carries the nodeName
  }
  if (nodeName !== NODE) return;
  const phase = get(pod, 'status', 'phase');
  if (phase === 'Succeeded' || phase === 'Failed') return;
  const desired = desiredStatus(pod);
  if (signature(pod.status) === signature(desired)) return;
  try {
    await core.patchNamespacedPodStatus(name, namespace, { status: desired }, undefined, undefined, undefined, undefined, undefined, MERGE);
    const ready = desired.conditions.find((c) => c.type === 'Ready').status;
    log(`status ${id}: Running, Ready=${ready}${ready === 'True' ? '' : ` (${desired.containerStatuses.map((c) => get(c, 'state', 'waiting', 'reason')).join(',')})`}`);
  } catch (e) {
    if (statusCode(e) !== 404 && statusCode(e) !== 409) throw e;
  }
}

// One worker per pod key: events for a pod are handled in order, the latest one wins.
const pending = new Map();
const inflight = new Set();
function enqueue(pod) {
  if (!pod || !pod.metadata) return;
  const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
  pending.set(key, pod);
  if (!inflight.has(key)) void drain(key);
}
async function drain(key) {
  inflight.add(key);
  try {
    while (pending.has(key)) {
      const pod = pending.get(key);
      pending.delete(key);
      try {
        await handlePod(pod);
        health.handled += 1;
      } catch (e) {
        health.errors += 1;
        log(`error handling ${key}: ${errText(e)}`);
        await sleep(500);
        if (!pending.has(key)) pending.set(key, pod); // retry with what we had
        if (health.errors % 50 === 0) await sleep(5000);
      }
    }
  } finally {
    inflight.delete(key);
  }
}

// ----------------------------------------------------------------------------------- list/watch

let currentWatch = null;
let generation = 0;

async function listAndWatch() {
  const gen = ++generation;
  const { body } = await core.listPodForAllNamespaces();
  health.lastList = Date.now();
  for (const pod of body.items) enqueue(pod);
  const rv = body.metadata && body.metadata.resourceVersion;
  return new Promise((resolve) => {
    let finished = false;
    const end = (why) => {
      if (finished) return;
      finished = true;
      health.watching = false;
      if (why) log(`watch ended: ${why}`);
      resolve();
    };
    watcher
      .watch(
        '/api/v1/pods',
        { resourceVersion: rv, allowWatchBookmarks: true },
        (type, obj) => {
          if (gen !== generation) return;
          if (type === 'ERROR') {
            if (currentWatch) currentWatch.abort();
            end(`error event ${obj && obj.code} ${obj && obj.message}`);
            return;
          }
          if (type === 'BOOKMARK' || type === 'DELETED') return;
          enqueue(obj);
        },
        (err) => end(err ? errText(err) : null),
      )
      .then((req) => {
        currentWatch = req;
        health.watching = true;
        if (finished) req.abort();
      })
      .catch((e) => end(errText(e)));
  });
}

async function watchLoop() {
  for (;;) {
    try {
      await listAndWatch();
    } catch (e) {
      health.watching = false;
      log(`list/watch failed: ${errText(e)}`);
      await sleep(2000);
    }
    await sleep(200);
  }
}

async function resyncLoop() {
  for (;;) {
    await sleep(RESYNC_SECONDS * 1000);
    try {
      const { body } = await core.listPodForAllNamespaces();
      health.lastList = Date.now();
      for (const pod of body.items) enqueue(pod);
    } catch (e) {
      log(`resync failed: ${errText(e)}`);
    }
  }
}

async function nodeLoop() {
  for (;;) {
    try {
      await registerNode();
      await sleep(15000);
    } catch (e) {
      health.nodeRegistered = false;
      log(`node registration/heartbeat failed: ${errText(e)}`);
      await sleep(2000);
    }
  }
}

// --------------------------------------------------------------------------------------- health

const server = http.createServer((req, res) => {
  const ok = health.nodeRegistered && health.watching && Date.now() - health.lastList < (RESYNC_SECONDS * 3 + 30) * 1000;
  res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ ok, node: NODE, server: kc.getCurrentCluster() && kc.getCurrentCluster().server, ...health }) + '\n');
});
server.listen(PORT, '127.0.0.1', () => log(`kubelet stand-in for node ${NODE}; health on http://127.0.0.1:${PORT}/healthz`));

process.on('unhandledRejection', (e) => log(`unhandled rejection: ${errText(e)}`));
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    log(`${sig}: exiting`);
    process.exit(0);
  });
}

void nodeLoop();
void watchLoop();
void resyncLoop();
