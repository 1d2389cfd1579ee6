import { describe, expect, it } from 'vitest';
import { applyDelivery, emptyLive, rowsOf, type RunRow } from './liveRows';

const run = (n: number, over: Partial<RunRow> = {}): RunRow => ({
  id: `r${n}`,
  number: n,
  status: 'RUNNING',
  pipelineId: 'p',
  pipelineName: 'deploy',
  revision: 1,
  sequence: 1,
  createdAt: `2026-01-01T00:00:${String(n).padStart(2, '0')}.000Z`,
  createdBy: 'alice',
  startedAt: null,
  finishedAt: null,
  trigger: null,
  ...over,
});

describe('runs list live rows', () => {
  const base = [run(3), run(2), run(1)];
  const page1 = { firstPage: true, status: null };

  it('updates a run on the page in place, newer sequences only', () => {
    let live = applyDelivery(emptyLive(), base, run(2, { status: 'SUCCEEDED', sequence: 5 }), page1);
    expect(rowsOf(live, base).map((r) => `${r.number}:${r.status}`)).toEqual(['3:RUNNING', '2:SUCCEEDED', '1:RUNNING']);
    live = applyDelivery(live, base, run(2, { status: 'RUNNING', sequence: 4 }), page1);
    expect(rowsOf(live, base)[1].status).toBe('SUCCEEDED');
  });

  it('puts a new run at the top of page 1 only', () => {
    const fresh = run(4, { status: 'QUEUED' });
    expect(rowsOf(applyDelivery(emptyLive(), base, fresh, page1), base).map((r) => r.number)).toEqual([4, 3, 2, 1]);
    expect(rowsOf(applyDelivery(emptyLive(), base, fresh, { firstPage: false, status: null }), base).map((r) => r.number)).toEqual([3, 2, 1]);
  });

  it('leaves out old runs of other pages and runs the status filter excludes', () => {
    expect(applyDelivery(emptyLive(), base, run(0, { createdAt: '2025-12-31T00:00:00.000Z' }), page1).added).toEqual([]);
    expect(applyDelivery(emptyLive(), base, run(5, { status: 'QUEUED' }), { firstPage: true, status: 'FAILED' }).added).toEqual([]);
    expect(applyDelivery(emptyLive(), base, run(5, { status: 'FAILED' }), { firstPage: true, status: 'FAILED' }).added).toHaveLength(1);
  });

  it('updates a run it added, and drops it once the page holds it', () => {
    let live = applyDelivery(emptyLive(), base, run(4, { status: 'QUEUED', sequence: 1 }), page1);
    live = applyDelivery(live, base, run(4, { status: 'RUNNING', sequence: 2 }), page1);
    expect(rowsOf(live, base)[0].status).toBe('RUNNING');
    const refetched = [run(4, { status: 'RUNNING', sequence: 2 }), ...base];
    expect(rowsOf(live, refetched).map((r) => r.number)).toEqual([4, 3, 2, 1]);
  });
});
