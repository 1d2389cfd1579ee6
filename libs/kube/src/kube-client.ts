import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { fromConnectionError, fromStatus, KubeError, redact, type KubeStatus, type RequestSubject } from './kube-error';

/** Structurally the same as ResolvedDeploymentTarget from @pipewright/contracts. */
export interface ClusterTarget {
  apiServerUrl: string;
  caCertificate: string | null;
  insecureSkipTlsVerify: boolean;
  token: string | null;
  clientCertificate: string | null;
  clientKey: string | null;
  defaultNamespace: string;
  name?: string;
}

/** One entry of an API group version's discovery document. */
export interface ApiResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
}

/** A kind resolved through discovery: where it lives and how it is called. */
export interface ResolvedKind {
  apiVersion: string;
  group: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  subresources: string[];
}

export interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
}

/** What `request` (the HTTP library client-node 0.22 uses) takes; only the fields used here. */
interface RequestOptions {
  method: string;
  uri: string;
  qs: Record<string, string | number | boolean>;
  headers: Record<string, string>;
  json: boolean;
  body?: unknown;
  timeout?: number;
}

/**
 * KubernetesObjectApi with its authenticated request exposed: client-node 0.22 applies the
 * KubeConfig's CA, client certificate and token to each request; this sends any path with any
 * content type (server-side apply, JSON patch arrays, subresources), and passes the JSON through
 * untouched (no typed deserialization of the spec).
 */
class RawApi extends KubernetesObjectApi {
  send<T>(options: RequestOptions): Promise<{ body: T; response: { statusCode?: number } }> {
    return this.requestPromise(options, 'any') as unknown as Promise<{ body: T; response: { statusCode?: number } }>;
  }
}

/** Kinds whose apiVersion is assumed when a reference gives none (others are looked up through discovery). */
const PREFERRED_VERSIONS = ['v1', 'apps/v1', 'batch/v1', 'networking.k8s.io/v1', 'rbac.authorization.k8s.io/v1', 'autoscaling/v1', 'batch/v1beta1', 'policy/v1beta1'];

/** The HTTP status of a client-node error, if it had one. */
export function statusCodeOf(err: unknown): number | undefined {
  const e = err as { statusCode?: number; response?: { statusCode?: number } };
  return e?.statusCode ?? e?.response?.statusCode;
}

/** Builds the KubeConfig of a deployment target (PEM text in, as the environments service stores it). */
export function kubeConfigFor(target: ClusterTarget): KubeConfig {
  const b64 = (pem: string | null) => (pem ? Buffer.from(pem).toString('base64') : undefined);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'target', server: target.apiServerUrl.replace(/\/+$/, ''), caData: b64(target.caCertificate), skipTLSVerify: target.insecureSkipTlsVerify }],
    // A user entry must exist even without credentials: client-node applies the CA only with one.
    users: [{ name: 'target', token: target.token ?? undefined, certData: b64(target.clientCertificate), keyData: b64(target.clientKey) }],
    contexts: [{ name: 'target', cluster: 'target', user: 'target', namespace: target.defaultNamespace }],
    currentContext: 'target',
  });
  return kc;
}

/** Authenticated requests and cached discovery for one deployment target. */
export class KubeClient {
  readonly server: string;
  private readonly api: RawApi;
  private readonly discovery = new Map<string, Promise<ApiResource[]>>();
  private groupVersions?: Promise<string[]>;

  constructor(
    readonly target: ClusterTarget,
    private readonly requestTimeoutMs = 30_000,
  ) {
    this.server = target.apiServerUrl.replace(/\/+$/, '');
    this.api = kubeConfigFor(target).makeApiClient(RawApi);
  }

  /** Sends one request; an error status becomes a KubeError naming `subject`, a lost connection one naming the server. */
  async request<T>(req: RawRequest, subject?: RequestSubject): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.contentType) headers['content-type'] = req.contentType;
    const qs = Object.fromEntries(Object.entries(req.query ?? {}).filter(([, v]) => v !== undefined)) as Record<string, string | number | boolean>;
    try {
      const { body } = await this.api.send<T>({ method: req.method, uri: `${this.server}${req.path}`, qs, headers, json: true, body: req.body, timeout: this.requestTimeoutMs });
      return body;
    } catch (err) {
      throw await this.explain(err, subject ?? { verb: req.method.toLowerCase(), resource: req.path, group: '', kind: req.path, operation: `${req.method} ${req.path}` });
    }
  }

  private async explain(err: unknown, subject: RequestSubject): Promise<KubeError> {
    if (err instanceof KubeError) return err;
    const code = statusCodeOf(err);
    let out: KubeError;
    if (code === undefined) {
      out = fromConnectionError(err as { code?: string; message?: string }, this.server);
    } else {
      const body = (err as { body?: unknown }).body;
      const status: KubeStatus = typeof body === 'object' && body !== null ? (body as KubeStatus) : { message: typeof body === 'string' ? body.trim().slice(0, 500) : undefined };
      let namespaceMissing = false;
      if (code === 404 && subject.namespace && status.details?.kind !== 'namespaces') namespaceMissing = (await this.namespaceExists(subject.namespace)) === false;
      out = fromStatus(code, status, subject, { server: this.server, namespaceMissing });
    }
    const secrets = [this.target.token, this.target.clientKey];
    if (!secrets.some((s) => s && out.message.includes(s))) return out;
    return new KubeError(redact(out.message, secrets), { status: out.status, reason: out.reason, causes: out.causes, document: out.document, retryable: out.retryable });
  }

  /** True / false when the cluster says; null when it will not say (the credentials may not read namespaces). */
  async namespaceExists(namespace: string): Promise<boolean | null> {
    try {
      await this.api.send({ method: 'GET', uri: `${this.server}/api/v1/namespaces/${encodeURIComponent(namespace)}`, qs: {}, headers: { accept: 'application/json' }, json: true, timeout: this.requestTimeoutMs });
      return true;
    } catch (err) {
      return statusCodeOf(err) === 404 ? false : null;
    }
  }

  /** The resources of one group version (`v1`, `apps/v1`), cached; null when the cluster does not serve it. */
  async resources(apiVersion: string, refresh = false): Promise<ApiResource[] | null> {
    if (refresh || !this.discovery.has(apiVersion)) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const subject: RequestSubject = { verb: 'get', resource: path, group: '', kind: `API ${apiVersion}`, operation: 'discovery' };
      const p = this.request<{ resources?: ApiResource[] }>({ method: 'GET', path }, subject).then((b) => b.resources ?? []);
      this.discovery.set(apiVersion, p);
      p.catch(() => this.discovery.delete(apiVersion));
    }
    try {
      return await this.discovery.get(apiVersion)!;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return null;
      throw err;
    }
  }

  /**
   * Where `kind` lives: exact kind first, then case-insensitively by kind, plural, singular or short
   * name (`deploy`). Without an apiVersion, the common group versions are tried, then every group's
   * preferred version. Unknown kinds throw a KubeError saying what the cluster serves.
   */
  async resolveKind(kind: string, apiVersion?: string): Promise<ResolvedKind> {
    const versions = apiVersion ? [apiVersion] : [...PREFERRED_VERSIONS];
    const tried = new Set<string>();
    const look = async (version: string, refresh: boolean): Promise<ResolvedKind | null> => {
      tried.add(version);
      const list = await this.resources(version, refresh);
      if (!list) {
        if (apiVersion) throw new KubeError(`the cluster at ${this.server} does not serve API ${apiVersion} (needed for kind ${kind})`, { status: 404, reason: 'NotFound' });
        return null;
      }
      const top = list.filter((r) => !r.name.includes('/'));
      const k = kind.toLowerCase();
      const found =
        top.find((r) => r.kind === kind) ??
        top.find((r) => r.kind.toLowerCase() === k || r.name === k || r.singularName === k || (r.shortNames ?? []).includes(k));
      if (!found) return null;
      const slash = version.indexOf('/');
      return {
        apiVersion: version,
        group: slash >= 0 ? version.slice(0, slash) : '',
        kind: found.kind,
        plural: found.name,
        namespaced: found.namespaced,
        subresources: list.filter((r) => r.name.startsWith(`${found.name}/`)).map((r) => r.name.slice(found.name.length + 1)),
      };
    };
    for (const v of versions) {
      const hit = await look(v, false);
      if (hit) return hit;
    }
    if (apiVersion) {
      // A kind added since the cache was filled (a CRD): ask again once.
      const hit = await look(apiVersion, true);
      if (hit) return hit;
      throw new KubeError(`the cluster at ${this.server} does not know kind ${kind} in API ${apiVersion}`, { status: 404, reason: 'NotFound' });
    }
    for (const v of await this.preferredGroupVersions()) {
      if (tried.has(v)) continue;
      const hit = await look(v, false);
      if (hit) return hit;
    }
    throw new KubeError(`the cluster at ${this.server} does not know kind ${kind} in any API group (give its apiVersion if it is a custom resource)`, { status: 404, reason: 'NotFound' });
  }

  private preferredGroupVersions(): Promise<string[]> {
    this.groupVersions ??= this.request<{ groups?: { preferredVersion?: { groupVersion?: string } }[] }>({ method: 'GET', path: '/apis' }, { verb: 'get', resource: '/apis', group: '', kind: 'API groups', operation: 'discovery' }).then((b) =>
      (b.groups ?? []).map((g) => g.preferredVersion?.groupVersion).filter((v): v is string => !!v),
    );
    return this.groupVersions;
  }

  /** `/apis/apps/v1/namespaces/t1/deployments/web` (collection path without a name). */
  pathOf(kind: ResolvedKind, namespace: string | null, name?: string, subresource?: string): string {
    const root = kind.group ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
    const ns = kind.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${root}${ns}/${kind.plural}${name ? `/${encodeURIComponent(name)}` : ''}${subresource ? `/${subresource}` : ''}`;
  }
}
