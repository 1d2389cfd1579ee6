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

/** Up to this many stages ELK runs in the page's thread (tens of ms); bigger graphs go to a worker. */
const IN_THREAD_MAX_STAGES = 60;

const inThread: EngineFactory = async () => {
  const { default: ElkBundled } = await import('elkjs/lib/elk.bundled.js');
  return new ElkBundled();
};

/**
 * Big graphs are laid out in a Web Worker (elk-worker.min.js, loaded only when needed or
 * prewarmed), so the page stays responsive meanwhile; where there is no Worker (tests), in-thread.
 */
const inWorker: EngineFactory = async () => {
  if (typeof Worker === 'undefined') return inThread();
  const [{ default: ElkApi }, { default: workerUrl }] = await Promise.all([import('elkjs/lib/elk-api'), import('elkjs/lib/elk-worker.min.js?url')]);
  return new ElkApi({ workerFactory: () => new Worker(workerUrl) });
};

let factories: { small: EngineFactory; big: EngineFactory } = { small: inThread, big: inWorker };
const engines: { small: Promise<ELK> | null; big: Promise<ELK> | null } = { small: null, big: null };
const getEngine = (stages: number) => {
  const which = stages <= IN_THREAD_MAX_STAGES ? 'small' : 'big';
  return (engines[which] ??= factories[which]().catch((e: unknown) => {
    engines[which] = null;
    throw e;
  }));
};

/** A small graph laid out once when the worker starts, so the first big layout runs warm. */
const WARM_UP: GraphStage[] = Array.from({ length: 24 }, (_, i) => ({ refId: `w${i}`, name: '', type: '', dependsOn: i ? [`w${Math.floor((i - 1) / 2)}`] : [] }));
let warmed: Promise<unknown> | null = null;

/**
 * Starts the layout worker (loads it, lays out a small graph) while the page still loads its
 * data, so a big graph does not wait for it. Small graphs do not need it.
 */
export function prewarmLayout(): void {
  warmed ??= getEngine(IN_THREAD_MAX_STAGES + 1)
    .then((elk) => elk.layout(elkGraphOf(WARM_UP)))
    .catch(() => (warmed = null));
}

/** For tests: another engine (e.g. the bundled one) for every size. */
export function setLayoutEngine(factory: EngineFactory): void {
  factories = { small: factory, big: factory };
  engines.small = engines.big = null;
  warmed = null;
  cache.clear();
}

const CACHE_SIZE = 16;
const cache = new Map<string, Promise<StageLayout>>();

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
 * The layout of a stage list, computed once per structure (a run's updates never change it; the
 * same revision opened again is laid out from the cache).
 */
export function layoutStages(stages: readonly GraphStage[], signature = structureSignature(stages)): Promise<StageLayout> {
  const hit = cache.get(signature);
  if (hit) {
    cache.delete(signature);
    cache.set(signature, hit);
    return hit;
  }
  const stored = readStored(stages, signature);
  if (stored) {
    const ready = Promise.resolve(stored);
    cache.set(signature, ready);
    return ready;
  }
  const p = getEngine(stages.length)
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
      writeStored(stages, signature, layout);
      return layout;
    });
  p.catch(() => cache.delete(signature));
  cache.set(signature, p);
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return p;
}
