import { isLoopbackRegistry, registryApiHost, type ImageReference } from './image-reference';
import { KubeError } from './kube-error';

export interface RegistryAccess {
  /** Credentials for a registry host as written in the image (`127.0.0.1:5001`); null when none are configured. */
  credentials?: (host: string) => Promise<{ username: string; password: string } | null>;
  /** Whether to speak plain HTTP to this host (loopback hosts always are). */
  insecure?: (host: string) => boolean | Promise<boolean>;
  fetch?: typeof fetch;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="https://auth.docker.io/token",service="registry.docker.io"` into its scheme and parameters. */
export function parseChallenge(header: string | null): Challenge | null {
  if (!header) return null;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g)) params[p[1].toLowerCase()] = p[2] ?? p[3];
  return { scheme: m[1].toLowerCase(), params };
}

/** The `rel="next"` target of a Link header, resolved against the request URL. */
export function nextLink(header: string | null, base: string): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;(.*)$/.exec(part.trim());
    if (m && /rel\s*=\s*"?next"?/.test(m[2])) return new URL(m[1], base).toString();
  }
  return null;
}

async function registryErrorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const e = body.errors?.[0];
    if (e) return `${e.code ?? ''}${e.code && e.message ? ': ' : ''}${e.message ?? ''}`;
  } catch {
    // not JSON: the text itself
  }
  return text.trim().slice(0, 200);
}

/** A registry API client for one repository: requests answered a `Basic` or `Bearer` challenge once, then carry its authorization. */
async function registryClient(image: ImageReference, access: RegistryAccess) {
  const doFetch = access.fetch ?? fetch;
  const host = registryApiHost(image.registry);
  const scheme = isLoopbackRegistry(image.registry) || (await access.insecure?.(image.registry)) ? 'http' : 'https';
  const timeoutMs = access.timeoutMs ?? 30_000;
  // Set by the 401 challenge (a closure writes them, so they live in an object).
  const auth: { header: string | null; user: string | null } = { header: null, user: null };

  const get = async (url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> => {
    try {
      return await doFetch(url, { method, headers: { accept: 'application/json', ...headers }, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new KubeError(`cannot reach registry ${image.registry} (${new URL(url).origin}): ${why}`, { reason: e.cause?.code ?? e.name, retryable: true });
    }
  };

  const authenticate = async (res: Response): Promise<void> => {
    const header = res.headers.get('www-authenticate');
    const challenge = parseChallenge(header);
    const creds = access.credentials ? await access.credentials(image.registry) : null;
    if (challenge?.scheme === 'basic') {
      if (!creds) {
        throw new KubeError(`registry ${image.registry} requires credentials to list the tags of ${image.path} (401, WWW-Authenticate: ${header}), and none are configured for ${image.registry}: add the registry with a user and password`, { status: 401, reason: 'Unauthorized' });
      }
      auth.header = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      auth.user = creds.username;
      return;
    }
    if (challenge?.scheme === 'bearer' && challenge.params.realm) {
      const tokenUrl = new URL(challenge.params.realm);
      if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
      tokenUrl.searchParams.set('scope', challenge.params.scope ?? `repository:${image.path}:pull`);
      const headers: Record<string, string> = creds ? { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` } : {};
      const tokenRes = await get(tokenUrl.toString(), headers);
      if (!tokenRes.ok) {
        const who = creds ? `user ${creds.username}` : 'anonymous access (no credentials are configured for it)';
        throw new KubeError(`registry ${image.registry}'s token service ${tokenUrl.origin} refused ${who}: HTTP ${tokenRes.status} ${await registryErrorText(tokenRes)}`, { status: tokenRes.status });
      }
      const body = (await tokenRes.json()) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      if (!token) throw new KubeError(`registry ${image.registry}'s token service ${tokenUrl.origin} answered without a token`, { status: tokenRes.status });
      auth.header = `Bearer ${token}`;
      auth.user = creds?.username ?? null;
      return;
    }
    throw new KubeError(`registry ${image.registry} answered 401 with a challenge this client does not speak (WWW-Authenticate: ${header ?? 'none'})`, { status: 401, reason: 'Unauthorized' });
  };

  return {
    base: `${scheme}://${host}/v2/${image.path}`,
    auth,
    /** A request that answers the registry's first 401 challenge and is sent again with its authorization. */
    async request(url: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Response> {
      const send = () => get(url, { ...opts.headers, ...(auth.header ? { authorization: auth.header } : {}) }, opts.method);
      let res = await send();
      if (res.status === 401 && !auth.header) {
        await authenticate(res);
        res = await send();
      }
      return res;
    },
  };
}

/**
 * Lists every tag of a repository through the Docker Registry HTTP API v2 (`GET /v2/<name>/tags/list`),
 * following `Link` pagination, answering a `Basic` or `Bearer` challenge with the credentials
 * (anonymous bearer tokens need none).
 */
export async function listTags(image: ImageReference, access: RegistryAccess = {}): Promise<string[]> {
  const client = await registryClient(image, access);
  const repo = `${image.registry}/${image.path}`;
  const tags: string[] = [];
  let url: string | null = `${client.base}/tags/list?n=1000`;
  for (let page = 0; url && page < 1000; page++) {
    const res = await client.request(url);
    if (res.status === 401 || res.status === 403) {
      const who = client.auth.user ? `the credentials of user ${client.auth.user}` : 'anonymous access';
      throw new KubeError(`registry ${image.registry} refused ${who} to list the tags of ${image.path}: HTTP ${res.status} ${await registryErrorText(res)}`, { status: res.status, reason: res.status === 401 ? 'Unauthorized' : 'Forbidden' });
    }
    if (res.status === 404) {
      throw new KubeError(`repository ${image.path} not found in registry ${image.registry} (404 ${await registryErrorText(res)})`, { status: 404, reason: 'NotFound' });
    }
    if (!res.ok) {
      throw new KubeError(`registry ${image.registry} failed to list the tags of ${repo}: HTTP ${res.status} ${await registryErrorText(res)}`, { status: res.status, retryable: res.status >= 500 || res.status === 429 });
    }
    const body = (await res.json()) as { tags?: string[] | null };
    tags.push(...(body.tags ?? []));
    url = nextLink(res.headers.get('link'), url);
  }
  return tags;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/**
 * The digest each tag points at (`HEAD /v2/<name>/manifests/<tag>`, `Docker-Content-Digest`), under
 * one authorization; null for a tag whose manifest could not be read.
 */
export async function tagDigests(image: ImageReference, tags: string[], access: RegistryAccess = {}): Promise<Record<string, string | null>> {
  const client = await registryClient(image, access);
  const out: Record<string, string | null> = {};
  for (const tag of tags) {
    const res = await client.request(`${client.base}/manifests/${encodeURIComponent(tag)}`, { method: 'HEAD', headers: { accept: MANIFEST_TYPES } });
    out[tag] = res.ok ? res.headers.get('docker-content-digest') : null;
  }
  return out;
}
