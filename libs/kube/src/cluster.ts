import { KubeClient, type ClusterTarget, type ResolvedKind } from './kube-client';
import { describeObject, KubeError, type RequestSubject } from './kube-error';
import { checkObject, isWorkload, parseValue, valueAt, withDefaultPortProtocols } from './manifests';
import { planRollback } from './rollback';
import { podProblem, revisionOf, type PodLike, selectorToString, workloadState, type KubeObject, type LabelSelector, type Stability } from './stability';

export interface ResourceRef {
  kind: string;
  name: string;
  namespace?: string | null;
  apiVersion?: string;
}

export interface AppliedResource {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | null;
  generation?: number;
  /**
   * A Deployment's revision, only when it is already settled for this object (the controller has
   * seen its generation, e.g. an apply that changed nothing); after a change, `stability()` says
   * which revision the rollout became.
   */
  revision?: number;
  /** A StatefulSet's ControllerRevision, or the generation a DaemonSet's controller rolled out (from `stability()`). */
  controllerRevision?: string;
}

export type PatchStrategy = 'STRATEGIC' | 'MERGE' | 'JSON';
export type DeletePropagation = 'FOREGROUND' | 'BACKGROUND' | 'ORPHAN';

export const FIELD_MANAGER = 'pipewright';

const PATCH_CONTENT_TYPES: Record<PatchStrategy, string> = {
  STRATEGIC: 'application/strategic-merge-patch+json',
  MERGE: 'application/merge-patch+json',
  JSON: 'application/json-patch+json',
};

const PROPAGATION: Record<DeletePropagation, { policy: string; note: string }> = {
  FOREGROUND: { policy: 'Foreground', note: 'it stays, marked for deletion, until the garbage collector has deleted its dependents' },
  BACKGROUND: { policy: 'Background', note: 'the garbage collector deletes its dependents afterwards' },
  ORPHAN: { policy: 'Orphan', note: 'its dependents are left in place' },
};

/** How many not-Ready pods `stability()` lists at most. */
const MAX_NOT_READY = 50;

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Kubernetes deployment operations on one deployment target, for the DEPLOY, PATCH, SCALE,
 * ROLLOUT_UNDO and DELETE stages. Nothing here waits: callers poll `stability()`.
 */
export class Cluster {
  private readonly client: KubeClient;

  constructor(
    readonly target: ClusterTarget,
    options: { requestTimeoutMs?: number } = {},
  ) {
    this.client = new KubeClient(target, options.requestTimeoutMs);
  }

  /**
   * Server-side apply (field manager `pipewright`, force) of each document, in order. A namespaced
   * kind goes to `namespace` if given, else its metadata.namespace, else the target's default
   * namespace; a cluster-scoped kind gets none. Stops at the first failure (a KubeError naming
   * `document N`); the documents before it stay applied.
   */
  async apply(docs: Record<string, unknown>[], namespace?: string): Promise<AppliedResource[]> {
    const out: AppliedResource[] = [];
    for (const [i, raw] of docs.entries()) {
      const n = i + 1;
      const doc = withDefaultPortProtocols(checkObject(raw, `document ${n}`, n));
      const metadata = { ...(doc.metadata as Record<string, unknown>) };
      const name = metadata.name as string;
      const kind = await this.resolve(doc.kind as string, doc.apiVersion as string, `document ${n} (${String(doc.kind)} ${name})`, n);
      const ns = kind.namespaced ? namespace || (metadata.namespace as string | undefined) || this.target.defaultNamespace : null;
      if (ns) metadata.namespace = ns;
      else delete metadata.namespace;
      const subject: RequestSubject = { verb: 'patch', resource: kind.plural, group: kind.group, kind: kind.kind, name, namespace: ns, document: n, operation: 'apply', valueAt: (field) => valueAt(doc, field) };
      const obj = await this.client.request<KubeObject>(
        {
          method: 'PATCH',
          path: this.client.pathOf(kind, ns, name),
          query: { fieldManager: FIELD_MANAGER, force: true },
          body: { ...doc, metadata },
          contentType: 'application/apply-patch+yaml',
        },
        subject,
      );
      out.push(this.applied(obj, kind, ns));
    }
    return out;
  }

  /**
   * Whether a resource has settled. Deployment/StatefulSet/DaemonSet/ReplicaSet: the controller
   * has seen its latest generation and all replicas are updated, ready and available (a
   * Deployment: no old ones left). Job: condition Complete (Failed throws). Anything else: that it
   * exists. A workload that does not exist, a failed Job and a Deployment past its progress
   * deadline throw a KubeError; otherwise `notReady` names the pods holding it up.
   */
  async stability(resource: AppliedResource | ResourceRef): Promise<Stability> {
    const { kind, ns } = await this.locate(resource);
    let obj: KubeObject;
    try {
      obj = await this.client.request<KubeObject>({ method: 'GET', path: this.client.pathOf(kind, ns, resource.name) }, this.subject('get', kind, resource.name, ns, 'stability check'));
    } catch (err) {
      if (err instanceof KubeError && err.status === 404 && !isWorkload(kind.kind)) {
        return { stable: false, summary: `${describeObject(kind.kind, resource.name, ns)} does not exist (yet)`, notReady: [] };
      }
      throw err;
    }
    if (!isWorkload(kind.kind)) return { ...workloadState(obj), notReady: [] };
    let state: ReturnType<typeof workloadState>;
    try {
      state = workloadState(obj);
    } catch (err) {
      if (err instanceof KubeError && err.reason === 'ProgressDeadlineExceeded') {
        const { notReady } = await this.notReadyPods(obj, ns);
        const pods = notReady.slice(0, 5).map((p) => `pod ${p.pod}: ${p.reason}`);
        throw new KubeError(`${err.message}${pods.length ? `; not ready: ${pods.join('; ')}` : ''}`, { reason: err.reason });
      }
      throw err;
    }
    if (state.stable) return { ...state, notReady: [] };
    const { notReady, note } = await this.notReadyPods(obj, ns);
    return { ...state, summary: note ? `${state.summary} (${note})` : state.summary, notReady };
  }

  /**
   * Patches a resource: STRATEGIC (strategic merge: lists of containers merge by name), MERGE
   * (RFC 7386) or JSON (RFC 6902 operations). `patch` may be YAML/JSON text, an object, or an
   * array of operations (JSON). Returns the patched resource.
   */
  async patch(ref: ResourceRef, patch: unknown, strategy: PatchStrategy): Promise<AppliedResource> {
    const body = typeof patch === 'string' ? parseValue(patch, 'the patch') : patch;
    if (strategy === 'JSON') {
      const ops = Array.isArray(body) ? body : null;
      const bad = ops ? ops.findIndex((op) => !isMapping(op) || typeof op.op !== 'string' || typeof op.path !== 'string') : -1;
      if (!ops || bad >= 0) {
        throw new KubeError(`a JSON patch must be a list of operations like {op: replace, path: /spec/replicas, value: 2}${bad >= 0 ? ` (operation ${bad + 1} has no op or path)` : ` (got ${body === null ? 'nothing' : typeof body})`}`, { reason: 'Invalid' });
      }
    } else if (!isMapping(body)) {
      throw new KubeError(`a ${strategy === 'MERGE' ? 'merge' : 'strategic merge'} patch must be a mapping of the fields to change (got ${Array.isArray(body) ? 'a list' : body === null ? 'nothing' : typeof body})`, { reason: 'Invalid' });
    }
    const { kind, ns } = await this.locate(ref);
    let obj: KubeObject;
    try {
      obj = await this.client.request<KubeObject>(
        { method: 'PATCH', path: this.client.pathOf(kind, ns, ref.name), body, contentType: PATCH_CONTENT_TYPES[strategy], query: { fieldManager: FIELD_MANAGER } },
        this.subject('patch', kind, ref.name, ns, 'patch'),
      );
    } catch (err) {
      // A JSON patch that does not apply gets a 422 saying only "the server rejected our request".
      if (err instanceof KubeError && err.status === 422 && strategy === 'JSON' && !err.causes.length) {
        throw new KubeError(`invalid: the JSON patch does not apply to ${describeObject(kind.kind, ref.name, ns)}: an operation's path does not exist (replace, remove and test need an existing path; add needs an existing parent) (cluster said: ${err.message.replace(/^.*?: .*? is invalid: /, '')})`, { status: 422, reason: err.reason, retryable: false });
      }
      throw err;
    }
    return this.applied(obj, kind, ns);
  }

  /** Sets the replicas through the scale subresource (Deployments, StatefulSets, ReplicaSets, or a custom resource that has one). */
  async scale(ref: ResourceRef, replicas: number): Promise<AppliedResource> {
    if (!Number.isInteger(replicas) || replicas < 0) throw new KubeError(`replicas must be a whole number of at least 0 (got ${replicas})`, { reason: 'Invalid' });
    const { kind, ns } = await this.locate(ref);
    if (!kind.subresources.includes('scale')) {
      throw new KubeError(`${describeObject(kind.kind, ref.name, ns)} cannot be scaled: ${kind.plural}${kind.group ? `.${kind.group}` : ''} has no scale subresource (Deployments, StatefulSets and ReplicaSets do)`, { reason: 'Invalid' });
    }
    await this.client.request(
      { method: 'PATCH', path: this.client.pathOf(kind, ns, ref.name, 'scale'), body: { spec: { replicas } }, contentType: PATCH_CONTENT_TYPES.MERGE, query: { fieldManager: FIELD_MANAGER } },
      { ...this.subject('patch', kind, ref.name, ns, 'scale'), resource: `${kind.plural}/scale` },
    );
    const obj = await this.client.request<KubeObject>({ method: 'GET', path: this.client.pathOf(kind, ns, ref.name) }, this.subject('get', kind, ref.name, ns, 'read'));
    return this.applied(obj, kind, ns);
  }

  /**
   * `kubectl rollout undo --to-revision`: the revision `revisionsBack` steps before the current one
   * among the Deployment's ReplicaSets becomes its template again (a new revision follows). Only
   * Deployments.
   */
  async rolloutUndo(ref: ResourceRef, revisionsBack: number, options: { marker?: string } = {}): Promise<{ fromRevision: number; toRevision: number; resource: AppliedResource }> {
    const { kind, ns } = await this.locate(ref);
    if (kind.kind !== 'Deployment') {
      throw new KubeError(`rollout undo supports Deployments only; ${describeObject(kind.kind, ref.name, ns)} is a ${kind.kind} (roll it back by applying its previous manifest)`, { reason: 'Invalid' });
    }
    const deployment = await this.client.request<KubeObject>({ method: 'GET', path: this.client.pathOf(kind, ns, ref.name) }, this.subject('get', kind, ref.name, ns, 'rollout undo'));
    const rsKind = await this.resolve('ReplicaSet', 'apps/v1', 'rollout undo');
    const selector = selectorToString(deployment.spec?.selector as LabelSelector | undefined);
    const list = await this.client.request<{ items?: KubeObject[] }>(
      { method: 'GET', path: this.client.pathOf(rsKind, ns), query: { labelSelector: selector || undefined } },
      this.subject('list', rsKind, undefined, ns, 'rollout undo'),
    );
    // The same undo again (a retried or redelivered attempt, same marker): already done, not a second step back.
    const done = options.marker ? parseUndoMarker(deployment.metadata?.annotations?.[UNDO_ANNOTATION], options.marker) : null;
    if (done) return { ...done, resource: this.applied(deployment, kind, ns) };
    const plan = planRollback(deployment, list.items ?? [], revisionsBack);
    if (!plan.patch) return { fromRevision: plan.fromRevision, toRevision: plan.toRevision, resource: this.applied(deployment, kind, ns) };
    if (options.marker) {
      const annotations = plan.patch[1].value as Record<string, string>;
      annotations[UNDO_ANNOTATION] = `${options.marker};from=${plan.fromRevision};to=${plan.toRevision}`;
    }
    const patched = await this.client.request<KubeObject>(
      { method: 'PATCH', path: this.client.pathOf(kind, ns, ref.name), body: plan.patch, contentType: PATCH_CONTENT_TYPES.JSON, query: { fieldManager: FIELD_MANAGER } },
      this.subject('patch', kind, ref.name, ns, 'rollout undo'),
    );
    return { fromRevision: plan.fromRevision, toRevision: plan.toRevision, resource: this.applied(patched, kind, ns) };
  }

  /** Deletes with the propagation policy; a resource already gone is `deleted: false` with a note saying so. */
  async delete(ref: ResourceRef, propagation: DeletePropagation): Promise<{ deleted: boolean; note: string }> {
    const { kind, ns } = await this.locate(ref);
    const what = describeObject(kind.kind, ref.name, ns);
    const p = PROPAGATION[propagation];
    if (!p) throw new KubeError(`propagation must be FOREGROUND, BACKGROUND or ORPHAN (got ${String(propagation)})`, { reason: 'Invalid' });
    try {
      await this.client.request(
        { method: 'DELETE', path: this.client.pathOf(kind, ns, ref.name), body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: p.policy } },
        this.subject('delete', kind, ref.name, ns, 'delete'),
      );
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) {
        const why = err.reason === 'NamespaceNotFound' ? ` (namespace ${ns} does not exist)` : '';
        return { deleted: false, note: `${what} was already gone${why}` };
      }
      throw err;
    }
    return { deleted: true, note: `${what} deleted (propagation ${p.policy}: ${p.note})` };
  }

  /** Whether the resource exists (one being deleted, with a deletionTimestamp, still does). */
  async exists(ref: ResourceRef): Promise<boolean> {
    const { kind, ns } = await this.locate(ref);
    try {
      await this.client.request({ method: 'GET', path: this.client.pathOf(kind, ns, ref.name) }, this.subject('get', kind, ref.name, ns, 'read'));
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return false;
      throw err;
    }
  }

  /** The resource as the cluster has it (JSON). */
  async read(ref: ResourceRef): Promise<Record<string, unknown>> {
    const { kind, ns } = await this.locate(ref);
    return this.client.request<Record<string, unknown>>({ method: 'GET', path: this.client.pathOf(kind, ns, ref.name) }, this.subject('get', kind, ref.name, ns, 'read'));
  }

  /** Discovery of `kind`; an unknown kind is a KubeError that starts with `where`. */
  private async resolve(kind: string, apiVersion: string | undefined, where: string, document?: number): Promise<ResolvedKind> {
    try {
      return await this.client.resolveKind(kind, apiVersion);
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) throw new KubeError(`${where}: ${err.message}`, { status: 404, reason: err.reason, document });
      throw err;
    }
  }

  private async locate(ref: ResourceRef): Promise<{ kind: ResolvedKind; ns: string | null }> {
    if (!ref?.kind || !ref.name) throw new KubeError(`a resource reference needs a kind and a name (got kind ${JSON.stringify(ref?.kind)}, name ${JSON.stringify(ref?.name)})`, { reason: 'Invalid' });
    const kind = await this.resolve(ref.kind, ref.apiVersion || undefined, describeObject(ref.kind, ref.name, ref.namespace));
    return { kind, ns: kind.namespaced ? ref.namespace || this.target.defaultNamespace : null };
  }

  private subject(verb: string, kind: ResolvedKind, name: string | undefined, namespace: string | null, operation: string): RequestSubject {
    return { verb, resource: kind.plural, group: kind.group, kind: kind.kind, name, namespace, operation };
  }

  private applied(obj: KubeObject, kind: ResolvedKind, ns: string | null): AppliedResource {
    const generation = obj.metadata?.generation;
    const settled = generation !== undefined && Number(obj.status?.observedGeneration ?? -1) >= generation;
    const revision = kind.kind === 'Deployment' && settled ? revisionOf(obj) : undefined;
    return {
      apiVersion: obj.apiVersion ?? kind.apiVersion,
      kind: obj.kind ?? kind.kind,
      name: obj.metadata?.name ?? '',
      namespace: ns,
      ...(generation !== undefined ? { generation } : {}),
      ...(revision !== undefined ? { revision } : {}),
    };
  }

  /** The pods the workload's selector picks that are not Ready, with why; a note when they cannot be listed. */
  private async notReadyPods(obj: KubeObject, ns: string | null): Promise<{ notReady: Stability['notReady']; note?: string }> {
    const selector = selectorToString(obj.spec?.selector as LabelSelector | undefined);
    if (!selector || !ns) return { notReady: [] };
    try {
      const pods = await this.client.request<{ items?: PodLike[] }>(
        { method: 'GET', path: `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`, query: { labelSelector: selector } },
        { verb: 'list', resource: 'pods', group: '', kind: 'Pod', namespace: ns, operation: 'list pods' },
      );
      const notReady: Stability['notReady'] = [];
      for (const pod of pods.items ?? []) {
        const reason = podProblem(pod);
        if (reason) notReady.push({ pod: pod.metadata?.name ?? '?', reason });
      }
      notReady.sort((a, b) => a.pod.localeCompare(b.pod));
      return { notReady: notReady.slice(0, MAX_NOT_READY), note: notReady.length > MAX_NOT_READY ? `${notReady.length} pods not ready, first ${MAX_NOT_READY} listed` : undefined };
    } catch (err) {
      if (err instanceof KubeError && err.status === 403) return { notReady: [], note: 'the credentials may not list pods, so which pods are not ready is unknown' };
      throw err;
    }
  }
}

/** Marks the Deployment an undo changed with who did it, so the same undo repeated does nothing. */
export const UNDO_ANNOTATION = 'pipewright.dev/rollout-undo';

function parseUndoMarker(value: string | undefined, marker: string): { fromRevision: number; toRevision: number } | null {
  const m = value ? /^(.*);from=(\d+);to=(\d+)$/.exec(value) : null;
  return m && m[1] === marker ? { fromRevision: Number(m[2]), toRevision: Number(m[3]) } : null;
}
