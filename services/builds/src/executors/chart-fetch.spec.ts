import { BuildFailure } from './executor';
import { indexEntries, pickChartVersion, type IndexEntry } from './chart-fetch';

const entries = (...versions: string[]): IndexEntry[] => versions.map((version) => ({ name: 'web', version, urls: [`web-${version}.tgz`] }));

describe('pickChartVersion (as helm picks)', () => {
  const all = entries('1.2.0', '2.0.0-rc.1', '1.10.3', '0.9.0', 'not-semver');

  it('takes the highest stable version when none is asked for', () => {
    expect(pickChartVersion(all, undefined)?.version).toBe('1.10.3');
    expect(pickChartVersion(entries('1.0.0-beta', '1.0.0-alpha'), undefined)).toBeUndefined(); // only prereleases: none, as helm
  });

  it('takes an exact version, with or without a leading v', () => {
    expect(pickChartVersion(all, '1.2.0')?.version).toBe('1.2.0');
    expect(pickChartVersion(all, 'v1.2.0')?.version).toBe('1.2.0');
    expect(pickChartVersion(all, 'not-semver')?.version).toBe('not-semver');
  });

  it('takes the highest a constraint allows (helm writes AND with commas), prereleases only when asked', () => {
    expect(pickChartVersion(all, '^1.2')?.version).toBe('1.10.3');
    expect(pickChartVersion(all, '~1.2')?.version).toBe('1.2.0');
    expect(pickChartVersion(all, '>= 1.0, < 1.5')?.version).toBe('1.2.0');
    expect(pickChartVersion(all, '< 2.0')?.version).toBe('1.10.3'); // not 2.0.0-rc.1 ("< 2.0" is "<2.0.0-0" to semver)
    expect(pickChartVersion(all, '>= 2.0.0-0')?.version).toBe('2.0.0-rc.1');
    expect(pickChartVersion(all, '1.0.0 - 2.0.0')?.version).toBe('1.10.3'); // a hyphen range asks for no prerelease
    expect(pickChartVersion(all, '^3')).toBeUndefined();
    expect(pickChartVersion(all, '9.9.9')).toBeUndefined();
  });
});

describe('indexEntries', () => {
  it('reads a chart of an index, and says what is wrong with one that is not', () => {
    const text = 'apiVersion: v1\nentries:\n  web:\n  - version: 1.0.0\n    urls: [web-1.0.0.tgz]\n    digest: abc\n  other: []\n';
    expect(indexEntries(text, 'web', 'w')).toEqual({ entries: [{ name: 'web', version: '1.0.0', urls: ['web-1.0.0.tgz'], digest: 'abc' }], charts: ['web', 'other'] });
    expect(indexEntries(text, 'nope', 'w').entries).toEqual([]);
    expect(() => indexEntries('<html>login</html>', 'web', 'cannot fetch')).toThrow(new BuildFailure('cannot fetch: its index.yaml has no "entries": is the URL a Helm chart repository?'));
    expect(() => indexEntries('a: [unclosed', 'web', 'cannot fetch')).toThrow(/^cannot fetch: its index.yaml is not YAML/);
  });
});
