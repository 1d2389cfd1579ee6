import { imageTag, registryHost } from './hosted.executor';

describe('hosted build tags', () => {
  it('fills {BUILD_NUMBER} and {COMMIT} into the tag format', () => {
    expect(imageTag({ useTagFormat: true, tagFormat: '_{BUILD_NUMBER}' }, 7, 'a'.repeat(40))).toBe('_7');
    expect(imageTag({ useTagFormat: true, tagFormat: 'v1.{BUILD_NUMBER}-{COMMIT}' }, 12, '0123456789abcdef0123')).toBe('v1.12-0123456789ab');
  });

  it('tags with the build number when the tag format is off', () => {
    expect(imageTag({ useTagFormat: false, tagFormat: '_{BUILD_NUMBER}' }, 3, 'abc')).toBe('3');
  });

  it('takes host[:port] from a registry URL with or without a scheme', () => {
    expect(registryHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(registryHost('https://registry.example.com/')).toBe('registry.example.com');
  });
});
