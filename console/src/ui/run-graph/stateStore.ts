import { createContext, useCallback, useContext, useSyncExternalStore } from 'react';
import { ACTIVE_STAGE_STATUSES, NOT_STARTED, type GraphStageState } from './types';

const same = (a: GraphStageState | undefined, b: GraphStageState | undefined) =>
  a === b || (!!a && !!b && a.status === b.status && (a.attempt ?? 0) === (b.attempt ?? 0) && (a.startedAt ?? null) === (b.startedAt ?? null) && (a.finishedAt ?? null) === (b.finishedAt ?? null));

/**
 * The stages' live states, outside React Flow's node list: a run update patches only the stages
 * whose status/attempt/times changed, and only their nodes re-render (the nodes, their layout and
 * React Flow's store are never rebuilt during a run).
 */
export class StageStateStore {
  private states = new Map<string, GraphStageState>();
  private selected: string | null = null;
  private listeners = new Map<string, Set<() => void>>();

  constructor(states?: ReadonlyMap<string, GraphStageState>, selected?: string | null) {
    if (states) for (const [k, v] of states) this.states.set(k, v);
    this.selected = selected ?? null;
  }

  get(refId: string): GraphStageState {
    return this.states.get(refId) ?? NOT_STARTED;
  }

  isSelected(refId: string): boolean {
    return this.selected === refId;
  }

  subscribe(refId: string, listener: () => void): () => void {
    let set = this.listeners.get(refId);
    if (!set) this.listeners.set(refId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size) this.listeners.delete(refId);
    };
  }

  /** Takes the run's current states; returns the refIds that changed (their nodes were told). */
  update(next: ReadonlyMap<string, GraphStageState>): string[] {
    const changed: string[] = [];
    for (const [refId, s] of next) {
      if (!same(this.states.get(refId), s)) {
        this.states.set(refId, s);
        changed.push(refId);
      } else this.states.set(refId, s);
    }
    for (const refId of [...this.states.keys()]) {
      if (!next.has(refId)) {
        this.states.delete(refId);
        changed.push(refId);
      }
    }
    for (const refId of changed) this.notify(refId);
    return changed;
  }

  select(refId: string | null): void {
    if (refId === this.selected) return;
    const before = this.selected;
    this.selected = refId;
    if (before) this.notify(before);
    if (refId) this.notify(refId);
  }

  private notify(refId: string) {
    this.listeners.get(refId)?.forEach((l) => l());
  }
}

export interface GraphContextValue {
  store: StageStateStore;
  open: (refId: string) => void;
}
export const GraphContext = createContext<GraphContextValue | null>(null);

function useGraph(): GraphContextValue {
  const c = useContext(GraphContext);
  if (!c) throw new Error('stage node outside a StageGraph');
  return c;
}

export function useStageState(refId: string): GraphStageState {
  const { store } = useGraph();
  const subscribe = useCallback((l: () => void) => store.subscribe(refId, l), [store, refId]);
  return useSyncExternalStore(subscribe, () => store.get(refId));
}

export function useStageSelected(refId: string): boolean {
  const { store } = useGraph();
  const subscribe = useCallback((l: () => void) => store.subscribe(refId, l), [store, refId]);
  return useSyncExternalStore(subscribe, () => store.isSelected(refId));
}

export function useOpenStage(): (refId: string) => void {
  return useGraph().open;
}

/**
 * A local clock for the durations of running stages: one 1 s timer shared by every node that shows
 * a ticking duration, running only while one does (it never asks the server anything).
 */
class Clock {
  now = Date.now();
  /** The time to show: the last tick, or (before the timer runs) the current second. */
  peek = () => (this.timer ? this.now : Math.floor(Date.now() / 1000) * 1000);
  private listeners = new Set<() => void>();
  private timer: ReturnType<typeof setInterval> | null = null;
  subscribe = (l: () => void) => {
    this.listeners.add(l);
    if (!this.timer) {
      this.now = Date.now();
      this.timer = setInterval(() => {
        this.now = Date.now();
        this.listeners.forEach((x) => x());
      }, 1000);
    }
    return () => {
      this.listeners.delete(l);
      if (!this.listeners.size && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  };
}
const clock = new Clock();
const noSubscribe = () => () => undefined;

/** Date.now(), refreshed every second while `ticking`. */
export function useNow(ticking: boolean): number {
  return useSyncExternalStore(ticking ? clock.subscribe : noSubscribe, () => (ticking ? clock.peek() : 0));
}

export const isActive = (status: string) => ACTIVE_STAGE_STATUSES.includes(status);
