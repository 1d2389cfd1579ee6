import { parseOutboundAllow } from '@pipewright/platform';
import { checkImageSource, imageReferenceHost, imageReferenceProblem, imageTag, registryHost } from './hosted.executor';

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

describe('the outbound guard for the images a pipeline names', () => {
  const policy = parseOutboundAllow('');

  it('finds the registry an image reference names, if it names one', () => {
    expect(imageReferenceHost('127.0.0.1:5000/team/app:1')).toBe('127.0.0.1:5000');
    expect(imageReferenceHost('Registry.Example.com/app')).toBe('registry.example.com');
    expect(imageReferenceHost('alpine:3.20')).toBeNull(); // unqualified: registries.conf decides
    expect(imageReferenceHost('team/app:1')).toBeNull();
    expect(imageReferenceHost('localhost:5000/x:1')).toBe('localhost:5000');
  });

  it('takes registry references only: no transport, no local image store', () => {
    for (const ok of ['alpine', 'alpine:3.20', 'team/app:1', '127.0.0.1:5000/pipewright/busybox:1.35', 'registry.example.com/a/b@sha256:' + 'a'.repeat(64), 'localhost:5000/x']) {
      expect({ ok, problem: imageReferenceProblem(ok) }).toEqual({ ok, problem: null });
    }
    for (const [bad, why] of [
      ['docker://127.0.0.1:9/x', /names the transport "docker:"/],
      ['dir:/etc', /names the transport "dir:"/],
      ['containers-storage:secret-image', /names the transport "containers-storage:"/],
      ['oci-archive:/var/lib/x.tar', /names the transport "oci-archive:"/],
      ['localhost/pipewright-build/other:1', /the builds service's own image store/],
      ['Team/App', /is not an image reference/],
      ['a b', /is not an image reference/],
    ] as const) {
      expect(imageReferenceProblem(bad)).toMatch(why);
    }
  });

  it("refuses one on the platform's own network, naming it and the setting, unless it is the stage's own registry", async () => {
    await expect(checkImageSource('127.0.0.1:9/evil:1', 'cannot pull build image', '127.0.0.1:5000', policy)).rejects.toThrow(
      /^cannot pull build image 127\.0\.0\.1:9\/evil:1: refused to connect to 127\.0\.0\.1 for https:\/\/127\.0\.0\.1:9: it is a loopback address.*OUTBOUND_ALLOW=127\.0\.0\.1:9/,
    );
    await expect(checkImageSource('169.254.169.254/latest:1', 'cannot pull base image of Dockerfile:', '127.0.0.1:5000', policy)).rejects.toThrow(/it is a link-local address/);
    await expect(checkImageSource('127.0.0.1:5000/base:1', 'cannot pull build image', '127.0.0.1:5000', policy)).resolves.toBeUndefined();
    await expect(checkImageSource('127.0.0.1:9/evil:1', 'cannot pull build image', '127.0.0.1:5000', parseOutboundAllow('127.0.0.1:9'))).resolves.toBeUndefined();
    await expect(checkImageSource('alpine:3.20', 'cannot pull build image', '127.0.0.1:5000', policy)).resolves.toBeUndefined();
    await expect(checkImageSource('dir:/etc', 'cannot pull build image', '127.0.0.1:5000', policy)).rejects.toThrow(/^cannot pull build image "dir:\/etc" names the transport "dir:"/);
  });
});
