import type { BuildStart } from '@pipewright/contracts';
import { buildSource } from './source.executor';

const command = (extra: Partial<BuildStart> = {}): BuildStart => ({
  buildRequestId: '00000000-0000-4000-8000-000000000001',
  runId: '00000000-0000-4000-8000-000000000002',
  runNumber: 1,
  pipelineId: '00000000-0000-4000-8000-000000000003',
  refId: 'build',
  stageType: 'BUILD_HOSTED',
  config: {},
  parameters: {},
  artifacts: {},
  ...extra,
});
const upstream = { refId: 'src', repositoryId: 'repo-up', branch: 'release', commit: 'c'.repeat(40) };
const artifact = { commit: { type: 'git/commit', repositoryId: 'repo-art', repository: 'http://git/a.git', branch: 'main', commit: 'a'.repeat(40) } };

describe('buildSource: what a build stage checks out', () => {
  it("takes the config's repository and branch over everything upstream", () => {
    expect(buildSource(command({ source: upstream, artifacts: artifact }), 'repo-own', 'dev')).toEqual({ repositoryId: 'repo-own', field: 'repositoryId', branch: 'dev' });
    expect(buildSource(command(), 'repo-own', undefined)).toEqual({ repositoryId: 'repo-own', field: 'repositoryId', branch: undefined });
  });

  it("else the nearest upstream Source stage's commit, before any git/commit artifact", () => {
    expect(buildSource(command({ source: upstream, artifacts: artifact }), undefined, undefined)).toEqual({
      repositoryId: 'repo-up',
      field: 'the repositoryId of Source stage src',
      branch: 'release',
      commit: upstream.commit,
      refId: 'src',
    });
  });

  it('else the git/commit run artifact an end condition made, naming it', () => {
    expect(buildSource(command({ artifacts: { image: { type: 'docker/image' }, ...artifact } }), undefined, undefined)).toEqual({
      repositoryId: 'repo-art',
      field: 'the git/commit artifact commit',
      branch: 'main',
      commit: artifact.commit.commit,
      artifact: 'commit',
    });
  });

  it('is null with none of them', () => {
    expect(buildSource(command({ artifacts: { image: { type: 'docker/image' } } }), undefined, undefined)).toBeNull();
  });
});
