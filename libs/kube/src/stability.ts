import { describeObject, KubeError } from './kube-error';

export interface Stability {
  stable: boolean;
  /** e.g. `1 of 3 replicas ready, 2 updated`, or `3 of 3 replicas ready (revision 2)`. */
  summary: string;
  /** A Deployment's `deployment.kubernetes.io/revision`. */
  revision?: number;
  /** A StatefulSet's or DaemonSet's revision: its ControllerRevision (`status.updateRevision`) or the generation its controller rolled out. */
  controllerRevision?: string;
  /** Pods of the workload (by its selector) that are not Ready, with why. Empty when stable. */
  notReady: { pod: string; reason: string }[];
}

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/** A Kubernetes object as JSON (only what is read here is typed). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: unknown;
    ownerReferences?: { uid?: string; kind?: string; name?: string; controller?: boolean }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const conditions = (obj: KubeObject): Condition[] => (Array.isArray(obj.status?.conditions) ? (obj.status!.conditions as Condition[]) : []);

export function revisionOf(obj: KubeObject): number | undefined {
  const raw = obj.metadata?.annotations?.[REVISION_ANNOTATION];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) ? n : undefined;
}

/** How a workload's controller reports it, without its pods: stable or what is missing. */
export interface WorkloadState {
  stable: boolean;
  summary: string;
  revision?: number;
  controllerRevision?: string;
}

function replicasSummary(ready: number, desired: number, updated: number, available: number, extra: string[] = []): string {
  const parts = [`${ready} of ${desired} replica${desired === 1 ? '' : 's'} ready`, `${updated} updated`];
  if (available !== ready) parts.push(`${available} available`);
  return [...parts, ...extra].join(', ');
}

/**
 * Reads a workload's status the way `kubectl rollout status` does. Deployment / StatefulSet /
 * DaemonSet / ReplicaSet: the controller has seen the latest generation and updated = ready =
 * available = desired (a Deployment: no old replicas left either). Job: condition Complete; a
 * Failed condition throws. A Deployment past its progress deadline throws too.
 */
export function workloadState(obj: KubeObject): WorkloadState {
  const kind = obj.kind ?? '';
  const what = describeObject(kind, obj.metadata?.name, obj.metadata?.namespace);
  const status = obj.status ?? {};
  const generation = num(obj.metadata?.generation);
  const observed = num(status.observedGeneration);
  const revision = kind === 'Deployment' ? revisionOf(obj) : undefined;
  const waitingForController = (): WorkloadState => ({
    stable: false,
    summary: `waiting for the ${kind} controller to observe generation ${generation} (it has seen ${observed || 'none'})`,
    revision,
  });

  switch (kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet': {
      if (observed < generation) return waitingForController();
      const desired = obj.spec?.replicas === undefined ? 1 : num(obj.spec.replicas);
      const ready = num(status.readyReplicas);
      const updated = kind === 'ReplicaSet' ? num(status.replicas) : num(status.updatedReplicas);
      const available = status.availableReplicas === undefined && kind === 'StatefulSet' ? ready : num(status.availableReplicas);
      const total = num(status.replicas);
      const extra: string[] = [];
      if (kind === 'Deployment') {
        const stuck = conditions(obj).find((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded');
        if (stuck) {
          throw new KubeError(`${what} exceeded its progress deadline: ${replicasSummary(ready, desired, updated, available)} (${stuck.message ?? stuck.reason})`, { reason: 'ProgressDeadlineExceeded' });
        }
        if (obj.spec?.paused) extra.push('rollout paused');
      }
      if (total > updated && kind === 'Deployment') extra.push(`${total - updated} old replica${total - updated === 1 ? '' : 's'} pending termination`);
      // total === desired: no old (or surplus) replicas are left.
      let stable = ready === desired && updated === desired && available === desired && total === desired;
      if (kind === 'StatefulSet' && status.updateRevision && status.currentRevision !== status.updateRevision && desired > 0) {
        const strategy = (obj.spec?.updateStrategy as { type?: string } | undefined)?.type;
        if (strategy !== 'OnDelete') stable = false;
      }
      const summary = stable ? `${desired} of ${desired} replica${desired === 1 ? '' : 's'} ready${revision !== undefined ? ` (revision ${revision})` : ''}` : replicasSummary(ready, desired, updated, available, extra);
      const controllerRevision = kind === 'StatefulSet' && typeof status.updateRevision === 'string' ? status.updateRevision : undefined;
      return { stable, summary, revision, ...(controllerRevision ? { controllerRevision } : {}) };
    }
    case 'DaemonSet': {
      if (observed < generation) return waitingForController();
      const desired = num(status.desiredNumberScheduled);
      const updated = num(status.updatedNumberScheduled);
      const ready = num(status.numberReady);
      const available = num(status.numberAvailable);
      const stable = updated === desired && ready === desired && available === desired;
      const summary = stable ? `${desired} of ${desired} scheduled pods ready` : `${ready} of ${desired} scheduled pods ready, ${updated} updated${available !== ready ? `, ${available} available` : ''}`;
      return { stable, summary, controllerRevision: `generation ${observed}` };
    }
    case 'Job': {
      const conds = conditions(obj);
      const failed = conds.find((c) => c.type === 'Failed' && c.status === 'True');
      if (failed) throw new KubeError(`${what} failed: ${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}`, { reason: failed.reason ?? 'JobFailed' });
      const completions = obj.spec?.completions === undefined ? 1 : num(obj.spec.completions);
      const succeeded = num(status.succeeded);
      if (conds.some((c) => c.type === 'Complete' && c.status === 'True')) return { stable: true, summary: `complete: ${succeeded} of ${completions} succeeded` };
      const active = num(status.active);
      const failedPods = num(status.failed);
      return { stable: false, summary: `${succeeded} of ${completions} completions, ${active} active${failedPods ? `, ${failedPods} failed` : ''}` };
    }
    default:
      return { stable: true, summary: `${what} exists` };
  }
}

export interface PodLike {
  metadata?: { name?: string; deletionTimestamp?: unknown };
  status?: {
    phase?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}
interface ContainerStatus {
  name?: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; message?: string; exitCode?: number } };
}

/**
 * Why a pod is not Ready, or null when it is: a container's waiting/terminated reason and message,
 * else the Ready condition's reason and message (or PodScheduled's when unscheduled), else the phase.
 */
export function podProblem(pod: PodLike): string | null {
  const status = pod.status ?? {};
  const ready = (status.conditions ?? []).find((c) => c.type === 'Ready');
  if (ready?.status === 'True' && !pod.metadata?.deletionTimestamp) return null;
  if (status.phase === 'Succeeded') return null;
  const terminating = pod.metadata?.deletionTimestamp ? 'Terminating; ' : '';
  const describe = (c: ContainerStatus, label: string): string | null => {
    const w = c.state?.waiting;
    if (w?.reason) return `${label} ${c.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}`;
    const t = c.state?.terminated;
    if (t && (label !== 'init container' || t.exitCode !== 0)) return `${label} ${c.name}: ${t.reason ?? 'Terminated'}${t.exitCode !== undefined ? ` (exit code ${t.exitCode})` : ''}${t.message ? `: ${t.message}` : ''}`;
    return null;
  };
  for (const c of status.initContainerStatuses ?? []) {
    const d = describe(c, 'init container');
    if (d) return terminating + d;
  }
  for (const c of status.containerStatuses ?? []) {
    if (c.ready) continue;
    const d = describe(c, 'container');
    if (d) return terminating + d;
  }
  if (ready && ready.status !== 'True' && (ready.reason || ready.message)) return `${terminating}${ready.reason ?? 'NotReady'}${ready.message ? `: ${ready.message}` : ''}`;
  const scheduled = (status.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (scheduled) return `${terminating}${scheduled.reason ?? 'Unschedulable'}${scheduled.message ? `: ${scheduled.message}` : ''}`;
  if (terminating) return 'Terminating';
  return status.phase ? `phase ${status.phase}` : 'no status yet (not picked up by a node)';
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A LabelSelector as the `labelSelector` query parameter (`app=web,tier in (a,b),!legacy`). */
export function selectorToString(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}
