import { parseImageReference, repositoryKey } from './image-reference';
import { KubeError } from './kube-error';
import { nextLink, parseChallenge } from './registry-tags';
import { highestTag, substituteImages, tagPattern } from './substitute-images';

const deployment = (image: string, init?: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    template: {
      spec: {
        ...(init ? { initContainers: [{ name: 'setup', image: init }] } : {}),
        containers: [
          { name: 'main', image },
          { name: 'sidecar', image: 'docker.io/library/busybox:1.36' },
        ],
      },
    },
  },
});

/** A registry that answers tags/list from a map, in pages of `pageSize`, optionally behind auth. */
function fakeRegistry(repos: Record<string, string[]>, opts: { pageSize?: number; basic?: string; bearer?: { realm: string; token: string } } = {}) {
  const calls: { url: string; authorization?: string }[] = [];
  const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const authorization = (init?.headers as Record<string, string> | undefined)?.authorization;
    calls.push({ url: url.toString(), authorization });
    if (opts.bearer && url.toString().startsWith(opts.bearer.realm)) {
      return Response.json({ token: opts.bearer.token });
    }
    if (opts.basic && authorization !== `Basic ${Buffer.from(opts.basic).toString('base64')}`) {
      return new Response(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }), { status: 401, headers: { 'www-authenticate': 'Basic realm="test"' } });
    }
    if (opts.bearer && authorization !== `Bearer ${opts.bearer.token}`) {
      return new Response('{}', { status: 401, headers: { 'www-authenticate': `Bearer realm="${opts.bearer.realm}",service="reg",scope="repository:x:pull"` } });
    }
    const m = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    const tags = m ? repos[m[1]] : undefined;
    if (!tags) return new Response(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }), { status: 404 });
    const size = opts.pageSize ?? 1000;
    const last = url.searchParams.get('last');
    const start = last ? tags.indexOf(last) + 1 : 0;
    const page = tags.slice(start, start + size);
    const headers: Record<string, string> = {};
    if (start + size < tags.length) headers.link = `</v2/${m![1]}/tags/list?n=${size}&last=${page[page.length - 1]}>; rel="next"`;
    return Response.json({ name: m![1], tags: page }, { headers });
  };
  return { fetch: impl as typeof fetch, calls };
}

async function failure(p: Promise<unknown>): Promise<KubeError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KubeError) return err;
    throw err;
  }
  throw new Error('expected a KubeError');
}

describe('image references', () => {
  it('splits host, path, tag and digest, with Docker Hub defaults', () => {
    expect(parseImageReference('127.0.0.1:5000/team/app:_7')).toMatchObject({ registry: '127.0.0.1:5000', path: 'team/app', tag: '_7', name: '127.0.0.1:5000/team/app' });
    expect(parseImageReference('nginx')).toMatchObject({ registry: 'docker.io', path: 'library/nginx', tag: undefined });
    expect(parseImageReference('localhost/app@sha256:abc')).toMatchObject({ registry: 'localhost', path: 'app', digest: 'sha256:abc' });
    expect(parseImageReference('ghcr.io/o/app:v{BUILD_NUMBER}-x')).toMatchObject({ registry: 'ghcr.io', path: 'o/app', tag: 'v{BUILD_NUMBER}-x' });
    expect(repositoryKey('nginx:1')).toBe(repositoryKey('index.docker.io/library/nginx@sha256:0'));
    expect(repositoryKey('team/app')).not.toBe(repositoryKey('127.0.0.1:5000/team/app'));
  });

  it('matches build-number tag formats and picks the highest number', () => {
    expect(tagPattern('_{BUILD_NUMBER}').test('_12')).toBe(true);
    expect(tagPattern('_{BUILD_NUMBER}').test('x_12')).toBe(false);
    expect(highestTag('_{BUILD_NUMBER}', ['_3', '_12', '_9', 'latest', '_12a'])).toEqual({ tag: '_12', number: 12n });
    expect(highestTag('v{BUILD_NUMBER}-alpine', ['v3-alpine', 'v10-alpine', 'v11', 'v9-alpine'])?.tag).toBe('v10-alpine');
    expect(highestTag('b.{BUILD_NUMBER}', ['bx7'])).toBeNull();
  });

  it('reads challenges and Link headers', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a:pull' },
    });
    expect(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"', 'http://r:5000/v2/a/tags/list?n=2')).toBe('http://r:5000/v2/a/tags/list?n=2&last=b');
    expect(nextLink(null, 'http://r')).toBeNull();
  });
});

describe('substituteImages', () => {
  it('replaces {BUILD_NUMBER} with the highest tag, following pagination, without touching the input', async () => {
    const registry = fakeRegistry({ 'team/app': ['_1', '_3', 'latest', '_12', '_9', 'x'] }, { pageSize: 2 });
    const docs = [deployment('127.0.0.1:5000/team/app:_{BUILD_NUMBER}')];
    const before = JSON.stringify(docs);
    const out = await substituteImages(docs, { images: [], fetch: registry.fetch });
    expect(JSON.stringify(docs)).toBe(before);
    expect((out.docs[0] as ReturnType<typeof deployment>).spec.template.spec.containers[0].image).toBe('127.0.0.1:5000/team/app:_12');
    expect(out.replaced).toEqual([
      {
        from: '127.0.0.1:5000/team/app:_{BUILD_NUMBER}',
        to: '127.0.0.1:5000/team/app:_12',
        reason: 'highest tag of 127.0.0.1:5000/team/app matching "_{BUILD_NUMBER}" (build 12)',
        where: 'document 1 (Deployment web) container main',
      },
    ]);
    expect(registry.calls.map((c) => c.url)).toEqual([
      'http://127.0.0.1:5000/v2/team/app/tags/list?n=1000',
      'http://127.0.0.1:5000/v2/team/app/tags/list?n=2&last=_3',
      'http://127.0.0.1:5000/v2/team/app/tags/list?n=2&last=_12',
    ]);
  });

  it('speaks https to other hosts unless insecure() says so, and lists each repository once', async () => {
    const registry = fakeRegistry({ 'o/app': ['7'] });
    const docs = [deployment('reg.example:8443/o/app:{BUILD_NUMBER}', 'reg.example:8443/o/app:{BUILD_NUMBER}')];
    await substituteImages(docs, { images: [], fetch: registry.fetch });
    expect(registry.calls.map((c) => c.url)).toEqual(['https://reg.example:8443/v2/o/app/tags/list?n=1000']);
    registry.calls.length = 0;
    const out = await substituteImages(docs, { images: [], fetch: registry.fetch, insecure: (h) => h === 'reg.example:8443' });
    expect(registry.calls[0].url).toMatch(/^http:\/\//);
    expect(out.replaced.map((r) => r.where)).toEqual(['document 1 (Deployment web) init container setup', 'document 1 (Deployment web) container main']);
  });

  it('answers a Basic challenge with the credentials, and says clearly when there are none', async () => {
    const registry = fakeRegistry({ 'team/app': ['_2', '_5'] }, { basic: 'u:p' });
    const docs = [deployment('127.0.0.1:5001/team/app:_{BUILD_NUMBER}')];
    const asked: string[] = [];
    const out = await substituteImages(docs, {
      images: [],
      fetch: registry.fetch,
      credentials: async (host) => (asked.push(host), { username: 'u', password: 'p' }),
    });
    expect(asked).toEqual(['127.0.0.1:5001']);
    expect(out.replaced[0].to).toBe('127.0.0.1:5001/team/app:_5');

    const none = await failure(substituteImages(docs, { images: [], fetch: registry.fetch, credentials: async () => null }));
    expect(none.message).toMatch(/^registry 127\.0\.0\.1:5001 requires credentials to list the tags of team\/app \(401, WWW-Authenticate: Basic realm="test"\), and none are configured for 127\.0\.0\.1:5001/);
    expect(none.status).toBe(401);

    const wrong = await failure(substituteImages(docs, { images: [], fetch: registry.fetch, credentials: async () => ({ username: 'u', password: 'nope' }) }));
    expect(wrong.message).toBe('registry 127.0.0.1:5001 refused the credentials of user u to list the tags of team/app: HTTP 401 UNAUTHORIZED: authentication required');
  });

  it('gets a bearer token from the realm (anonymously without credentials)', async () => {
    const registry = fakeRegistry({ 'library/app': ['_1', '_4'] }, { bearer: { realm: 'https://auth.example/token', token: 'tok' } });
    const out = await substituteImages([deployment('app:_{BUILD_NUMBER}')], { images: [], fetch: registry.fetch });
    expect(out.replaced[0].to).toBe('app:_4');
    const tokenCall = registry.calls.find((c) => c.url.startsWith('https://auth.example/token'))!;
    expect(new URL(tokenCall.url).searchParams.get('scope')).toBe('repository:x:pull');
    expect(tokenCall.authorization).toBeUndefined();
    expect(registry.calls[0].url).toBe('https://registry-1.docker.io/v2/library/app/tags/list?n=1000');
  });

  it('names the repository, the format and the first 20 tags when nothing matches', async () => {
    const tags = Array.from({ length: 25 }, (_, i) => `v${i}`);
    const registry = fakeRegistry({ 'team/app': tags, 'team/empty': [] });
    const err = await failure(substituteImages([deployment('127.0.0.1:5000/team/app:_{BUILD_NUMBER}')], { images: [], fetch: registry.fetch }));
    expect(err.message).toBe(`document 1 (Deployment web) container main: no tag of 127.0.0.1:5000/team/app matches "_{BUILD_NUMBER}" (tags seen: ${tags.slice(0, 20).join(', ')} and 5 more)`);
    const empty = await failure(substituteImages([deployment('127.0.0.1:5000/team/empty:_{BUILD_NUMBER}')], { images: [], fetch: registry.fetch }));
    expect(empty.message).toMatch(/\(the repository has no tags\)$/);
    const missing = await failure(substituteImages([deployment('127.0.0.1:5000/team/gone:_{BUILD_NUMBER}')], { images: [], fetch: registry.fetch }));
    expect(missing.message).toBe('repository team/gone not found in registry 127.0.0.1:5000 (404 NAME_UNKNOWN: repository name not known to registry)');
  });

  it('replaces every image of an artifact\'s repository, in every kind with a pod template, before build numbers', async () => {
    const registry = fakeRegistry({});
    const cron = {
      apiVersion: 'batch/v1beta1',
      kind: 'CronJob',
      metadata: { name: 'nightly' },
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'job', image: '127.0.0.1:5000/team/app@sha256:old' }] } } } } },
    };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: '127.0.0.1:5000/team/other:1' }] } };
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } };
    const out = await substituteImages([deployment('127.0.0.1:5000/team/app:_{BUILD_NUMBER}'), cron, pod, service], {
      images: ['127.0.0.1:5000/team/app:_6', '127.0.0.1:5000/team/app:_7', 'busybox@sha256:abc'],
      fetch: registry.fetch,
    });
    expect(registry.calls).toEqual([]);
    expect(out.replaced).toEqual([
      { from: '127.0.0.1:5000/team/app:_{BUILD_NUMBER}', to: '127.0.0.1:5000/team/app:_7', reason: 'image artifact 127.0.0.1:5000/team/app:_7 is of repository 127.0.0.1:5000/team/app', where: 'document 1 (Deployment web) container main' },
      { from: 'docker.io/library/busybox:1.36', to: 'busybox@sha256:abc', reason: 'image artifact busybox@sha256:abc is of repository docker.io/library/busybox', where: 'document 1 (Deployment web) container sidecar' },
      { from: '127.0.0.1:5000/team/app@sha256:old', to: '127.0.0.1:5000/team/app:_7', reason: 'image artifact 127.0.0.1:5000/team/app:_7 is of repository 127.0.0.1:5000/team/app', where: 'document 2 (CronJob nightly) container job' },
    ]);
    expect(out.docs[2]).toEqual(pod);
    expect(out.docs[3]).toEqual(service);
  });
});
