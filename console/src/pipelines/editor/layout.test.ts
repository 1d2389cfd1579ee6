import { describe, expect, it } from 'vitest';
import { edgesOf, elkLayout, quickLayout } from './layout';

const stages = [
  { refId: 'a', dependsOn: [] },
  { refId: 'b', dependsOn: ['a'] },
  { refId: 'c', dependsOn: ['a', 'missing'] },
  { refId: 'd', dependsOn: ['b', 'c'] },
];

describe('layout', () => {
  it('draws an edge per known dependency', () => {
    expect(edgesOf(stages)).toEqual([
      { source: 'a', target: 'b' },
      { source: 'a', target: 'c' },
      { source: 'b', target: 'd' },
      { source: 'c', target: 'd' },
    ]);
  });
  it('lays out left to right', async () => {
    for (const pos of [quickLayout(stages), await elkLayout(stages)]) {
      expect(pos.a.x).toBeLessThan(pos.b.x);
      expect(pos.b.x).toBeLessThan(pos.d.x);
      expect(pos.b.x).toBe(pos.c.x);
      expect(pos.b.y).not.toBe(pos.c.y);
    }
  });
  it('survives a cycle', async () => {
    const cyclic = [
      { refId: 'a', dependsOn: ['b'] },
      { refId: 'b', dependsOn: ['a'] },
    ];
    expect(Object.keys(quickLayout(cyclic))).toEqual(['a', 'b']);
    expect(Object.keys(await elkLayout(cyclic)).sort()).toEqual(['a', 'b']);
  });
});
