import { describe, expect, it } from 'vitest';
import { buildProduct, formatDuration, isBuildStageType, splitImage, urls } from './buildInfo';

describe('splitImage', () => {
  it('splits the tag off, not a registry port', () => {
    expect(splitImage('127.0.0.1:5000/ns/app:7')).toEqual({ repository: '127.0.0.1:5000/ns/app', tag: '7' });
    expect(splitImage('127.0.0.1:5000/ns/app')).toEqual({ repository: '127.0.0.1:5000/ns/app', tag: null });
    expect(splitImage('app:v1.2@sha256:abc')).toEqual({ repository: 'app', tag: 'v1.2' });
  });
});

describe('buildProduct', () => {
  it('is the image and tag of a hosted build', () => {
    expect(buildProduct({ stageType: 'BUILD_HOSTED', image: 'reg:5000/ns/app:v1.3', outputs: { tag: 'v1.3' } })).toEqual({ kind: 'image', name: 'reg:5000/ns/app', tag: 'v1.3' });
    expect(buildProduct({ stageType: 'BUILD_HOSTED', image: null, outputs: null })).toBeNull();
  });
  it('is the branch and short commit of a source build', () => {
    expect(buildProduct({ stageType: 'SOURCE_GITHUB', image: null, outputs: { branch: 'main', commit: '0123456789abcdef0123' } })).toEqual({ kind: 'commit', name: 'main', tag: '0123456789ab' });
  });
  it('is the chart of a bake and the job of a Jenkins build', () => {
    expect(buildProduct({ stageType: 'BAKE_MANIFEST', image: null, outputs: { chart: 'hello', chartVersion: '0.1.0', release: 'r' } })).toEqual({ kind: 'chart', name: 'hello', tag: '0.1.0' });
    expect(buildProduct({ stageType: 'BUILD_JENKINS', image: null, outputs: { job: 'hello', buildNumber: 4, buildUrl: 'http://j/job/hello/4/' } })).toEqual({
      kind: 'jenkins',
      name: 'hello',
      tag: null,
      external: { label: 'Jenkins #4', url: 'http://j/job/hello/4/' },
    });
  });
});

describe('formatDuration', () => {
  it('reads naturally', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(1.957)).toBe('2 s');
    expect(formatDuration(0.43)).toBe('0.4 s');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(187)).toBe('3 m 07 s');
    expect(formatDuration(3720)).toBe('1 h 02 m');
  });
});

describe('urls and stage types', () => {
  it('links as the console routes expect', () => {
    expect(urls.builds('default', { pipeline: 'p1', stage: 'build' })).toBe('/p/default/builds?pipeline=p1&stage=build');
    expect(urls.builds('default', { stage: 'build' })).toBe('/p/default/builds');
    expect(urls.editStage('default', 'p1', 'my stage')).toBe('/p/default/pipelines/p1?stage=my%20stage');
    expect(isBuildStageType('BUILD_HOSTED')).toBe(true);
    expect(isBuildStageType('DEPLOY')).toBe(false);
  });
});
