import { describe, expect, it, vi } from 'vitest';
import { NODE_HEIGHT, cachedLayout, elkGraphOf, layoutStages, provisionalLayout, setLayoutEngine, structureSignature } from './layout';
import { StageStateStore } from './stateStore';
import { durationBetween, formatDuration } from './format';

const stages = [
  { refId: 'a', name: 'A', type: 'JUDGEMENT', dependsOn: [] },
  { refId: 'b', name: 'B', type: 'WEBHOOK', dependsOn: ['a', 'gone'] },
  { refId: 'c', name: 'C', type: 'WEBHOOK', dependsOn: ['a'] },
  { refId: 'd', name: 'D', type: 'WEBHOOK', dependsOn: ['b', 'c'] },
];

describe('layout', () => {
  it('builds a layered left-to-right ELK graph without unknown dependencies', () => {
    const g = elkGraphOf(stages);
    expect(g.layoutOptions?.['elk.algorithm']).toBe('layered');
    expect(g.layoutOptions?.['elk.direction']).toBe('RIGHT');
    expect(g.edges?.map((e) => e.id)).toEqual(['a->b', 'a->c', 'b->d', 'c->d']);
  });

  it('lays out left to right, once per structure', async () => {
    const { default: ElkBundled } = await import('elkjs/lib/elk.bundled.js');
    const elk = new ElkBundled();
    const layout = vi.spyOn(elk, 'layout');
    setLayoutEngine(async () => elk);
    const first = await layoutStages(stages);
    expect(first.positions.get('a')!.x).toBeLessThan(first.positions.get('b')!.x);
    expect(first.positions.get('b')!.x).toBeLessThan(first.positions.get('d')!.x);
    await layoutStages(stages.map((s) => ({ ...s, name: `${s.name}!` })));
    expect(layout).toHaveBeenCalledTimes(1);
    // Known at once from then on (no provisional layout drawn for it).
    expect(cachedLayout(stages)).toBe(first);
    expect(cachedLayout(stages.slice(1))).toBeNull();
    expect(structureSignature(stages)).not.toBe(structureSignature(stages.slice(1)));
  });
});

describe('provisionalLayout', () => {
  it('places every stage at once, in columns by dependency, without overlaps', () => {
    const { positions, width, height } = provisionalLayout(stages);
    expect([...positions.keys()]).toEqual(['a', 'b', 'c', 'd']);
    const at = (id: string) => positions.get(id)!;
    expect(at('a').x).toBeLessThan(at('b').x);
    expect(at('b').x).toBe(at('c').x);
    expect(at('b').x).toBeLessThan(at('d').x);
    expect(Math.abs(at('b').y - at('c').y)).toBeGreaterThanOrEqual(NODE_HEIGHT);
    for (const p of positions.values()) {
      expect(p.x + 1).toBeLessThan(width);
      expect(p.y + NODE_HEIGHT).toBeLessThanOrEqual(height);
    }
  });

  it('survives cycles and big graphs', () => {
    const cyclic = provisionalLayout([
      { refId: 'a', name: 'A', type: 'T', dependsOn: ['c'] },
      { refId: 'b', name: 'B', type: 'T', dependsOn: ['a'] },
      { refId: 'c', name: 'C', type: 'T', dependsOn: ['b'] },
      { refId: 'd', name: 'D', type: 'T', dependsOn: [] },
    ]);
    expect(cyclic.positions.size).toBe(4);
    const n = 5000;
    const big = Array.from({ length: n }, (_, i) => ({ refId: `s${i}`, name: '', type: '', dependsOn: i ? [`s${Math.max(0, i - 1 - (i % 7))}`, `s${Math.floor(i / 2)}`] : [] }));
    const started = performance.now();
    const layout = provisionalLayout(big);
    expect(performance.now() - started).toBeLessThan(1000);
    const seen = new Set([...layout.positions.values()].map((p) => `${p.x},${p.y}`));
    expect(seen.size).toBe(n);
  });
});

describe('StageStateStore', () => {
  it('tells only the stages whose state changed', () => {
    const store = new StageStateStore(new Map([['a', { status: 'RUNNING', attempt: 1, startedAt: 't0' }]]));
    const heard: string[] = [];
    store.subscribe('a', () => heard.push('a'));
    store.subscribe('b', () => heard.push('b'));
    expect(store.update(new Map([['a', { status: 'RUNNING', attempt: 1, startedAt: 't0' }], ['b', { status: 'NOT_STARTED' }]]))).toEqual(['b']);
    expect(store.update(new Map([['a', { status: 'SUCCEEDED', attempt: 1, startedAt: 't0', finishedAt: 't1' }], ['b', { status: 'NOT_STARTED' }]]))).toEqual(['a']);
    expect(heard).toEqual(['b', 'a']);
    expect(store.get('zz').status).toBe('NOT_STARTED');
    store.select('b');
    expect(store.isSelected('b')).toBe(true);
    expect(heard).toEqual(['b', 'a', 'b']);
  });
});

describe('format', () => {
  it('formats durations', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(192_000)).toBe('3 min 12 s');
    expect(formatDuration(2 * 3600_000 + 5 * 60_000)).toBe('2 h 5 min');
    expect(durationBetween(null, null, 0)).toBe('');
    expect(durationBetween('2026-01-01T00:00:00Z', null, Date.parse('2026-01-01T00:00:30Z'))).toBe('30 s');
  });
});
