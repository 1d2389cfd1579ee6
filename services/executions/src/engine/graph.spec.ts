import type { StageStatus } from '@pipewright/contracts';
import { descendants, runOutcome, schedule, type GraphStage } from './graph';

const s = (refId: string, dependsOn: string[], status: StageStatus = 'NOT_STARTED', blocksDownstream = false): GraphStage => ({ refId, dependsOn, status, blocksDownstream });

describe('graph scheduling', () => {
  it('starts roots together, then a join only when both branches are done', () => {
    const diamond = [s('a', []), s('b', ['a']), s('c', ['a']), s('d', ['b', 'c'])];
    expect(schedule(diamond)).toEqual({ start: ['a'], skip: [] });
    diamond[0].status = 'SUCCEEDED';
    expect(schedule(diamond).start).toEqual(['b', 'c']);
    diamond[1].status = 'SUCCEEDED';
    diamond[2].status = 'RUNNING';
    expect(schedule(diamond).start).toEqual([]);
    diamond[2].status = 'FAILED_CONTINUE';
    expect(schedule(diamond).start).toEqual(['d']);
  });

  it('skips everything below a blocking stage, and the run can still succeed', () => {
    const graph = [s('judge', [], 'SUCCEEDED'), s('gate', ['judge'], 'SUCCEEDED', true), s('deploy', ['gate']), s('notify', ['deploy']), s('other', ['judge'])];
    expect(schedule(graph)).toEqual({ start: ['other'], skip: ['deploy', 'notify'] });
    graph[2].status = 'SKIPPED';
    graph[3].status = 'SKIPPED';
    graph[4].status = 'SUCCEEDED';
    expect(runOutcome(graph)).toBe('SUCCEEDED');
  });

  it('ends a run FAILED when a stage failed and nothing else can move', () => {
    const graph = [s('a', [], 'FAILED'), s('b', ['a'])];
    expect(runOutcome(graph)).toBe('FAILED');
    expect(runOutcome([s('a', [], 'RUNNING'), s('b', ['a'])])).toBeNull();
  });

  it('lists descendants', () => {
    expect([...descendants([s('a', []), s('b', ['a']), s('c', ['b']), s('d', [])], 'a')].sort()).toEqual(['b', 'c']);
  });
});
