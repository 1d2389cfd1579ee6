import type { ELK, ElkNode } from 'elkjs/lib/elk-api';
import type { GraphStage } from './types';

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 78;

export interface StageLayout {
  /** Top-left corner of each stage's node, by refId. */
  positions: Map<string, { x: number; y: number }>;
  width: number;
  height: number;
}

/** The structure of a stage list: equal signatures lay out the same (the layout cache's key). */
export function structureSignature(stages: readonly GraphStage[]): string {
  return stages.map((s) => `${s.refId}<${s.dependsOn.join(',')}`).join('|');
}

/**
 * The ELK graph of the stages: layered, left to right. Dependencies on refIds that are not in the
 * list are left out. Edge routing is POLYLINE and crossing minimisation lighter for big graphs:
 * React Flow draws the edges itself, so only the node positions matter. Past 500 stages (more than
 * a revision may have: only the benchmark draws such graphs) the simpler node placement is used.
 * Measured (bench/console, and node on the bench's graphs): warm, ELK lays out 200 stages in
 * 100-130 ms whatever the node placement (BRANDES_KOEPF, LINEAR_SEGMENTS, SIMPLE) or layering; a
 * new worker's first layout takes 0.7-1 s, nearly all of it loading ELK and warming its code up.
 * So these options are chosen for the picture, and the provisional layout covers the wait.
 */
export function elkGraphOf(stages: readonly GraphStage[]): ElkNode {
  const known = new Set(stages.map((s) => s.refId));
  const n = stages.length;
  return {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'POLYLINE',
      'elk.spacing.nodeNode': '24',
      'elk.layered.spacing.nodeNodeBetweenLayers': '56',
      // Measured in chromium (bench/console): past 60 stages these cut ELK's time by 2-4x.
      'elk.layered.thoroughness': n > 60 ? '1' : '7',
      ...(n > 60 ? { 'elk.layered.crossingMinimization.greedySwitch.type': 'OFF' } : {}),
      'elk.layered.nodePlacement.strategy': n > 500 ? 'SIMPLE' : 'BRANDES_KOEPF',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.separateConnectedComponents': 'false',
    },
    children: stages.map((s) => ({ id: s.refId, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: stages.flatMap((s) =>
      s.dependsOn.filter((d) => known.has(d) && d !== s.refId).map((d) => ({ id: `${d}->${s.refId}`, sources: [d], targets: [s.refId] })),
    ),
  };
}

export function layoutOf(result: ElkNode): StageLayout {
  const positions = new Map<string, { x: number; y: number }>();
  for (const c of result.children ?? []) positions.set(c.id, { x: c.x ?? 0, y: c.y ?? 0 });
  return { positions, width: result.width ?? 0, height: result.height ?? 0 };
}

type EngineFactory = () => Promise<ELK>;

const inThread: EngineFactory = async () => {
  const { default: ElkBundled } = await import('elkjs/lib/elk.bundled.js');
  return new ElkBundled();
};

/**
 * ELK runs in a Web Worker (elk-worker.min.js, loaded when the first graph is laid out or when
 * prewarmed), for every size: the page's thread neither compiles its 1.6 MB nor runs it, so the
 * graph drawn meanwhile (provisionalLayout) stays responsive. Measured in chromium (bench/console):
 * even for 12 stages the worker is no slower than ELK in the page, which blocks the page for
 * 100-200 ms while it loads. Where there is no Worker (tests), in-thread.
 */
const inWorker: EngineFactory = async () => {
  if (typeof Worker === 'undefined') return inThread();
  const [{ default: ElkApi }, { default: workerUrl }] = await Promise.all([import('elkjs/lib/elk-api'), import('elkjs/lib/elk-worker.min.js?url')]);
  return new ElkApi({ workerFactory: () => new Worker(workerUrl) });
};

let factory: EngineFactory = inWorker;
let engine: Promise<ELK> | null = null;
const getEngine = () =>
  (engine ??= factory().catch((e: unknown) => {
    engine = null;
    throw e;
  }));

/**
 * Lays out any ELK graph with the console's ELK engine (the worker): the pipeline editor's graph
 * uses it too, so a session loads ELK once.
 */
export function layoutElkGraph(graph: ElkNode): Promise<ElkNode> {
  return getEngine().then((elk) => elk.layout(graph));
}

/** A small graph laid out once when the worker starts, so the first real layout runs warmer. */
const WARM_UP: GraphStage[] = Array.from({ length: 24 }, (_, i) => ({ refId: `w${i}`, name: '', type: '', dependsOn: i ? [`w${Math.floor((i - 1) / 2)}`] : [] }));
let warmed: Promise<unknown> | null = null;

/**
 * Starts the layout worker (loads it, lays out a small graph) while the page still loads its
 * data, so the graph's ELK layout does not wait for it.
 */
export function prewarmLayout(): void {
  warmed ??= layoutElkGraph(elkGraphOf(WARM_UP)).catch(() => (warmed = null));
}

/** For tests: another engine (e.g. the bundled one). */
export function setLayoutEngine(next: EngineFactory): void {
  factory = next;
  engine = null;
  warmed = null;
  cache.clear();
}

const CACHE_SIZE = 16;
/** ELK's layouts by structure signature, the newest CACHE_SIZE: `layout` once ELK has answered. */
const cache = new Map<string, { promise: Promise<StageLayout>; layout?: StageLayout }>();

/**
 * Layouts are also kept in localStorage (a few KB each, the newest STORED_MAX), so opening a run
 * of a revision seen before draws at once, without ELK.
 */
const STORED_PREFIX = 'pipewright.stage-layout.v1:';
const STORED_MAX = 24;
const STORED_MAX_STAGES = 1000;

function hashOf(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return `${text.length.toString(36)}.${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}`;
}

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function readStored(stages: readonly GraphStage[], signature: string): StageLayout | null {
  const store = storage();
  if (!store || stages.length > STORED_MAX_STAGES) return null;
  try {
    const raw = store.getItem(STORED_PREFIX + hashOf(signature));
    if (!raw) return null;
    const v = JSON.parse(raw) as { w: number; h: number; p: number[]; t: number };
    if (!Array.isArray(v.p) || v.p.length !== stages.length * 2) return null;
    const positions = new Map<string, { x: number; y: number }>();
    stages.forEach((s, i) => positions.set(s.refId, { x: v.p[2 * i], y: v.p[2 * i + 1] }));
    return { positions, width: v.w, height: v.h };
  } catch {
    return null;
  }
}

function writeStored(stages: readonly GraphStage[], signature: string, layout: StageLayout): void {
  const store = storage();
  if (!store || stages.length > STORED_MAX_STAGES) return;
  try {
    const p = stages.flatMap((s) => {
      const at = layout.positions.get(s.refId) ?? { x: 0, y: 0 };
      return [Math.round(at.x), Math.round(at.y)];
    });
    store.setItem(STORED_PREFIX + hashOf(signature), JSON.stringify({ w: layout.width, h: layout.height, p, t: Date.now() }));
    const keys: { key: string; t: number }[] = [];
    for (let i = 0; i < store.length; i++) {
      const key = store.key(i);
      if (key?.startsWith(STORED_PREFIX)) keys.push({ key, t: (JSON.parse(store.getItem(key) ?? '{}') as { t?: number }).t ?? 0 });
    }
    keys.sort((x, y) => y.t - x.t).slice(STORED_MAX).forEach((k) => store.removeItem(k.key));
  } catch {
    // Full or refused: the layout is only not kept.
  }
}

/**
 * ELK's layout of a stage list when it is known without running ELK (laid out before in this page,
 * or kept in localStorage), else null.
 */
export function cachedLayout(stages: readonly GraphStage[], signature = structureSignature(stages)): StageLayout | null {
  const hit = cache.get(signature);
  if (hit) return hit.layout ?? null;
  const stored = readStored(stages, signature);
  if (stored) remember(signature, { promise: Promise.resolve(stored), layout: stored });
  return stored;
}

function remember(signature: string, entry: { promise: Promise<StageLayout>; layout?: StageLayout }) {
  cache.delete(signature);
  cache.set(signature, entry);
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
}

/**
 * The layout of a stage list, computed once per structure (a run's updates never change it; the
 * same revision opened again is laid out from the cache).
 */
export function layoutStages(stages: readonly GraphStage[], signature = structureSignature(stages)): Promise<StageLayout> {
  const hit = cache.get(signature);
  if (hit) {
    remember(signature, hit);
    return hit.promise;
  }
  const stored = cachedLayout(stages, signature);
  if (stored) return cache.get(signature)!.promise;
  const entry: { promise: Promise<StageLayout>; layout?: StageLayout } = {
    promise: getEngine()
      .then((elk) => {
        const started = performance.now();
        return elk.layout(elkGraphOf(stages)).then((result) => {
          // Seen in the browser's performance timeline (and read by bench/console).
          performance.measure?.(`stage-graph layout (${stages.length} stages)`, { start: started });
          return result;
        });
      })
      .then(layoutOf)
      .then((layout) => {
        entry.layout = layout;
        writeStored(stages, signature, layout);
        return layout;
      }),
  };
  entry.promise.catch(() => {
    if (cache.get(signature) === entry) cache.delete(signature);
  });
  remember(signature, entry);
  return entry.promise;
}

/** ELK's default padding around the graph, so the provisional layout starts where ELK's does. */
const PADDING = 12;
const NODE_GAP = 24;
const LAYER_GAP = 56;

/**
 * A layered left-to-right layout computed at once in the page (O(n + e), plus a sort per layer),
 * drawn while ELK works so every stage is on screen and clickable from the first frame; ELK's
 * layout replaces it when it arrives. Columns are the longest path from a root (stages in a
 * dependency cycle go after the stages they depend on that are placed); in each column a stage
 * goes level with the mean of the stages it depends on, pushed down to not overlap the one above.
 */
export function provisionalLayout(stages: readonly GraphStage[]): StageLayout {
  const n = stages.length;
  const index = new Map<string, number>();
  stages.forEach((s, i) => index.set(s.refId, i));
  const preds: number[][] = stages.map((s, i) => {
    const out: number[] = [];
    for (const d of s.dependsOn) {
      const j = index.get(d);
      if (j !== undefined && j !== i && !out.includes(j)) out.push(j);
    }
    return out;
  });
  const succs: number[][] = Array.from({ length: n }, () => []);
  const waiting = new Int32Array(n);
  preds.forEach((ps, i) => {
    waiting[i] = ps.length;
    for (const p of ps) succs[p].push(i);
  });
  const layer = new Int32Array(n);
  const placed = new Uint8Array(n);
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (!waiting[i]) order.push(i);
  for (let head = 0; head < order.length; head++) {
    const v = order[head];
    placed[v] = 1;
    for (const w of succs[v]) {
      if (layer[w] < layer[v] + 1) layer[w] = layer[v] + 1;
      if (--waiting[w] === 0) order.push(w);
    }
  }
  // Stages in (or behind) a cycle: after those of their dependencies already placed.
  for (let i = 0; i < n; i++) {
    if (placed[i]) continue;
    let l = 0;
    for (const p of preds[i]) if (placed[p] && layer[p] + 1 > l) l = layer[p] + 1;
    layer[i] = l;
    placed[i] = 1;
    order.push(i);
  }
  const layers: number[][] = [];
  for (const v of order) (layers[layer[v]] ??= []).push(v);
  const y = new Float64Array(n);
  const want = new Float64Array(n);
  let bottom = 0;
  for (const column of layers) {
    if (!column) continue;
    for (const v of column) {
      let sum = 0;
      let count = 0;
      for (const p of preds[v]) {
        if (layer[p] < layer[v]) {
          sum += y[p];
          count++;
        }
      }
      want[v] = count ? sum / count : -1;
    }
    column.sort((a, b) => want[a] - want[b] || a - b);
    let next = PADDING;
    for (const v of column) {
      y[v] = Math.max(want[v], next);
      next = y[v] + NODE_HEIGHT + NODE_GAP;
    }
    bottom = Math.max(bottom, next - NODE_GAP);
  }
  const positions = new Map<string, { x: number; y: number }>();
  stages.forEach((s, i) => positions.set(s.refId, { x: PADDING + layer[i] * (NODE_WIDTH + LAYER_GAP), y: y[i] }));
  return { positions, width: n ? 2 * PADDING + layers.length * (NODE_WIDTH + LAYER_GAP) - LAYER_GAP : 0, height: n ? bottom + PADDING : 0 };
}
