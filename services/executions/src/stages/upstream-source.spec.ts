import type { StageDocument, StageStatus } from '@pipewright/contracts';
import type { StageRunEntity } from '../runs/run.entity';
import { nearestUpstreamSource } from './upstream-source';

const doc = (refId: string, type: string, dependsOn: string[] = []): StageDocument => ({ refId, name: refId, type, dependsOn, config: {}, failurePolicy: 'FAIL_PIPELINE' });
const src = (refId: string, dependsOn: string[] = [], type = 'SOURCE_GITHUB') => doc(refId, type, dependsOn);
const build = (refId: string, dependsOn: string[]) => doc(refId, 'BUILD_HOSTED', dependsOn);

/** The stage rows: every Source stage SUCCEEDED with the outputs the Source executor writes, unless `status` says otherwise. */
function rows(stages: StageDocument[], status: Record<string, StageStatus> = {}): Map<string, StageRunEntity> {
  return new Map(
    stages.map((s) => {
      const isSource = s.type.startsWith('SOURCE_');
      const outputs = isSource ? { type: 'git/commit', repositoryId: `repo-${s.refId}`, repository: 'http://git/x.git', branch: 'main', commit: `commit-${s.refId}`, buildId: 'b' } : null;
      return [s.refId, { refId: s.refId, type: s.type, status: status[s.refId] ?? (isSource ? 'SUCCEEDED' : 'NOT_STARTED'), outputs } as StageRunEntity];
    }),
  );
}
const nearest = (stages: StageDocument[], refId: string, status: Record<string, StageStatus> = {}) => nearestUpstreamSource(stages, rows(stages, status), refId)?.refId ?? null;

describe('nearestUpstreamSource', () => {
  it("gives the upstream Source stage's repository, branch and commit, with its refId", () => {
    const stages = [src('source'), build('build', ['source'])];
    expect(nearestUpstreamSource(stages, rows(stages), 'build')).toEqual({ refId: 'source', repositoryId: 'repo-source', branch: 'main', commit: 'commit-source' });
  });

  it('is null without a Source stage upstream: none at all, one only in a parallel branch, or one below', () => {
    expect(nearest([doc('hook', 'WEBHOOK'), build('build', ['hook'])], 'build')).toBeNull();
    expect(nearest([src('side'), build('build', [])], 'build')).toBeNull();
    expect(nearest([build('build', []), src('after', ['build'])], 'build')).toBeNull();
  });

  it('takes the one with the fewest dependsOn hops, however far the other is listed', () => {
    // far -> mid -> near -> build: far is listed first, near is 1 hop away.
    const stages = [src('far'), doc('mid', 'WEBHOOK', ['far']), src('near', ['mid']), build('build', ['near'])];
    expect(nearest(stages, 'build')).toBe('near');
    // A Source two hops up through a non-Source stage, and one three hops up: the two-hop one.
    const chain = [src('three'), src('two', ['three']), doc('bake', 'BAKE_MANIFEST', ['two']), build('build', ['bake'])];
    expect(nearest(chain, 'build')).toBe('two');
  });

  it('counts the shortest path: a Source reached both directly and through a chain is one hop away', () => {
    // s is 1 hop up (and 2 through hook); other, listed first, is 2 hops up: s.
    const stages = [src('other'), src('s'), doc('hook', 'WEBHOOK', ['other', 's']), build('build', ['hook', 's'])];
    expect(nearest(stages, 'build')).toBe('s');
  });

  it('breaks a tie by the order of the stages in the pipeline, not by the order of dependsOn', () => {
    const stages = [src('first'), src('second', [], 'SOURCE_GITLAB'), build('build', ['second', 'first'])];
    expect(nearest(stages, 'build')).toBe('first');
    const swapped = [src('second'), src('first'), build('build', ['first', 'second'])];
    expect(nearest(swapped, 'build')).toBe('second');
  });

  it('passes over a nearer Source that did not succeed, to the nearest that did', () => {
    const stages = [src('far'), src('near', ['far']), build('build', ['near'])];
    expect(nearest(stages, 'build', { near: 'SKIPPED' })).toBe('far');
    expect(nearest(stages, 'build', { near: 'FAILED_CONTINUE' })).toBe('far');
    expect(nearest(stages, 'build', { near: 'SKIPPED', far: 'SKIPPED' })).toBeNull();
  });

  it('ignores a Source stage whose outputs hold no commit, and survives a cycle or an unknown dependency', () => {
    const stages = [src('old'), src('empty', ['old']), build('build', ['empty'])];
    const runs = rows(stages);
    runs.get('empty')!.outputs = { note: 'no commit' };
    expect(nearestUpstreamSource(stages, runs, 'build')?.refId).toBe('old');
    const cyclic = [build('a', ['b']), build('b', ['a', 'missing'])];
    expect(nearest(cyclic, 'a')).toBeNull();
    expect(nearest([src('s')], 'not-a-stage')).toBeNull();
  });
});
