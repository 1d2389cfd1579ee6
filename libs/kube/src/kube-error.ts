/** One reason the cluster gave for refusing an object (`Status.details.causes[]`). */
export interface KubeCause {
  /** Path of the offending field, e.g. `spec.selector` (null when the cluster named none). */
  field: string | null;
  message: string;
}

export interface KubeErrorDetails {
  status?: number;
  reason?: string;
  causes?: KubeCause[];
  document?: number;
  retryable?: boolean;
}

/**
 * Every failure of this library, explained from what the cluster (or registry) said. `status` is
 * the HTTP status when there was one; `reason` the Kubernetes Status reason (`Forbidden`,
 * `NotFound`, `Invalid`, ...) or the connection's errno (`ECONNREFUSED`, a TLS code); `document`
 * the 1-based index of the manifest document it is about; `retryable` whether trying the same
 * thing again later may succeed (connection problems, 409, 429, 5xx).
 */
export class KubeError extends Error {
  readonly status?: number;
  readonly reason?: string;
  readonly causes: KubeCause[];
  readonly document?: number;
  readonly retryable: boolean;

  constructor(message: string, details: KubeErrorDetails = {}) {
    super(message);
    this.name = 'KubeError';
    this.status = details.status;
    this.reason = details.reason;
    this.causes = details.causes ?? [];
    this.document = details.document;
    this.retryable = details.retryable ?? false;
  }
}

/** The Kubernetes `Status` object an API error carries (only the parts used here). */
export interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { field?: string; message?: string; reason?: string }[] };
}

/** What a request was about, so a failure can name it. */
export interface RequestSubject {
  /** The RBAC verb of the operation: get, list, create, patch, update, delete. */
  verb: string;
  /** Lower-case resource plural, e.g. `deployments`; with `/scale` for the subresource. */
  resource: string;
  /** API group, '' for the core group. */
  group: string;
  /** Kind as the user wrote it or discovery named it, e.g. `Deployment`. */
  kind: string;
  name?: string;
  namespace?: string | null;
  /** 1-based manifest document index (apply). */
  document?: number;
  /** What the operation was, for the generic fallback, e.g. `apply`, `read`, `scale`. */
  operation: string;
  /** The value the request body has at a field path (`spec.replicas`), to show in an error. */
  valueAt?: (field: string) => unknown;
}

/** `deployment web in namespace t1`, `namespace t1`, `clusterrole view`. */
export function describeObject(kind: string, name?: string, namespace?: string | null): string {
  const k = kind.toLowerCase();
  return `${k}${name ? ` ${name}` : 's'}${namespace ? ` in namespace ${namespace}` : ''}`;
}

const qualified = (resource: string, group: string) => (group ? `${resource.replace(/\/.*$/, '')}.${group}${resource.includes('/') ? resource.slice(resource.indexOf('/')) : ''}` : resource);

function causesOf(status: KubeStatus, valueAt?: (field: string) => unknown): KubeCause[] {
  const causes = (status.details?.causes ?? [])
    .filter((c) => c.message || c.field)
    .map((c) => ({ field: c.field || null, message: c.message ?? c.reason ?? 'invalid' }));
  if (causes.length) return causes;
  // Server-side apply reports a value of the wrong type as `failed to create typed patch object
  // (...): .spec.replicas: expected numeric (int or float), got string` without causes.
  const typed = /typed (?:patch )?object(?: \([^)]*\))?: \.?([^\s:]+): (.+)$/s.exec(status.message ?? '');
  if (typed) {
    // `got *value.valueUnstructured` is Go's type name: say what the document has instead.
    const value = valueAt?.(typed[1]);
    const message = value !== undefined ? typed[2].replace(/got \*?value\.\w+$/, `got ${JSON.stringify(value)}`) : typed[2];
    return [{ field: typed[1], message }];
  }
  return [];
}

const retryableStatus = (code: number) => code === 409 || code === 429 || code >= 500;

/**
 * Turns an API error status into the message a user reads: what was refused, named precisely,
 * with what the cluster said. `namespaceMissing` is set by the caller when it checked that the
 * namespace of a 404 does not exist.
 */
export function fromStatus(
  code: number,
  status: KubeStatus,
  subject: RequestSubject,
  opts: { server: string; namespaceMissing?: boolean } = { server: '' },
): KubeError {
  const said = status.message ? ` (cluster said: ${status.message})` : '';
  const doc = subject.document !== undefined ? `document ${subject.document} (${subject.kind} ${subject.name ?? ''}`.trimEnd() + ')' : undefined;
  const what = describeObject(subject.kind, subject.name, subject.namespace);
  const base = { status: code, reason: status.reason, document: subject.document, retryable: retryableStatus(code) };
  if (code === 401) {
    return new KubeError(`unauthorized: the cluster at ${opts.server} rejected the deployment target's credentials (expired or revoked token, or a client certificate it does not trust)${said}`, base);
  }
  if (code === 403) {
    // The cluster names the verb and resource it checked (e.g. `create` when an apply creates, or
    // `deployments/scale`); prefer them to what the operation implied.
    const rbac = /cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?/.exec(status.message ?? '');
    const verb = rbac?.[1] ?? subject.verb;
    const resource = qualified(rbac?.[2] ?? subject.resource, rbac ? (rbac[3] ?? '') : subject.group);
    const target = `${resource}${subject.name ? ` "${subject.name}"` : ''}${subject.namespace ? ` in namespace "${subject.namespace}"` : ''}`;
    return new KubeError(`forbidden: the deployment target's credentials may not ${verb} ${target}${doc ? ` (${doc})` : ''}${said}`, base);
  }
  if (code === 404) {
    const nsGone = opts.namespaceMissing || (status.details?.kind === 'namespaces' && !!subject.namespace && status.details?.name === subject.namespace);
    if (nsGone) {
      return new KubeError(`not found: namespace ${subject.namespace} does not exist (create it first, or choose another namespace), so ${what} cannot be ${subject.operation === 'apply' ? 'applied' : 'found'}${doc ? ` (${doc})` : ''}`, { ...base, reason: 'NamespaceNotFound' });
    }
    if (!status.details?.name && /could not find the requested resource/.test(status.message ?? '')) {
      return new KubeError(`not found: the cluster does not serve ${qualified(subject.resource, subject.group)}${said}`, base);
    }
    return new KubeError(`not found: ${what}${doc ? ` (${doc})` : ''}${said}`, base);
  }
  // Server-side apply answers a schema violation (wrong type, unknown field) with 500 and no reason.
  const schemaViolation = code === 500 && !status.reason && /typed (patch )?object/.test(status.message ?? '');
  if (code === 422 || code === 400 || schemaViolation) {
    const causes = causesOf(status, subject.valueAt);
    const list = causes.length ? causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join('; ') : (status.message ?? 'rejected');
    const subjectText = doc ?? what;
    const verbText = subject.operation === 'patch' ? 'the patched object is invalid' : 'is invalid';
    return new KubeError(`invalid: ${subjectText} ${verbText}: ${list}`, { ...base, reason: status.reason ?? 'Invalid', causes, retryable: false });
  }
  if (code === 409) {
    return new KubeError(`conflict: ${subject.operation} of ${what}${doc ? ` (${doc})` : ''} conflicted with another change${said}`, base);
  }
  return new KubeError(`${subject.operation} of ${what}${doc ? ` (${doc})` : ''} failed with HTTP ${code}${status.reason ? ` ${status.reason}` : ''}${said}`, base);
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|EPROTO|ERR_OSSL/;

/** A request that got no HTTP answer: names the API server URL and the errno or TLS reason. */
export function fromConnectionError(err: { code?: string; message?: string }, server: string): KubeError {
  const code = err.code ?? 'ERROR';
  const detail = err.message && !err.message.includes(code) ? `${code}: ${err.message}` : (err.message ?? code);
  let hint = '';
  if (code === 'ECONNREFUSED') hint = ' (nothing listens there: is the URL and port right, and is the API server up?)';
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') hint = ' (the host name does not resolve)';
  else if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') hint = ' (no answer in time)';
  else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') hint = " (the server's certificate does not name this host)";
  else if (TLS_CODES.test(code)) hint = " (TLS: the server's certificate is not trusted; set the deployment target's CA certificate, or skip verification)";
  return new KubeError(`cannot reach the Kubernetes API server at ${server}: ${detail}${hint}`, { reason: code, retryable: !TLS_CODES.test(code) });
}

/** Replaces every occurrence of the secrets in a message (a token must never reach the UI). */
export function redact(message: string, secrets: (string | null | undefined)[]): string {
  let out = message;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}
