/** A container image reference split the way registries and the kubelet read it. */
export interface ImageReference {
  /** Registry host as written (`127.0.0.1:5000`, `ghcr.io`), `docker.io` when none is. */
  registry: string;
  /** Repository path in that registry (`team/app`; `library/nginx` for a bare Docker Hub name). */
  path: string;
  tag?: string;
  digest?: string;
  /** The reference as written up to the tag/digest (`127.0.0.1:5000/team/app`, `nginx`). */
  name: string;
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Splits `host[:port]/path[:tag][@digest]`; a first component without `.` or `:` (and not `localhost`) is a Docker Hub path. */
export function parseImageReference(ref: string): ImageReference {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasHost ? first : 'docker.io';
  let path = hasHost ? rest.slice(slash + 1) : rest;
  if (DOCKER_HUB.has(registry)) {
    registry = 'docker.io';
    if (!path.includes('/')) path = `library/${path}`;
  }
  return { registry, path, tag, digest, name: rest };
}

/** `registry/path`, the identity two references share when they are the same repository. */
export function repositoryKey(ref: string | ImageReference): string {
  const r = typeof ref === 'string' ? parseImageReference(ref) : ref;
  return `${r.registry.toLowerCase()}/${r.path}`;
}

/** The host the registry API answers on (`registry-1.docker.io` for Docker Hub). */
export function registryApiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

/** Loopback registries are spoken to over plain HTTP, as docker and containerd do. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '');
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]' || host === '::1';
}
