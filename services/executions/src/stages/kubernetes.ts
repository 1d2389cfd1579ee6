import { Cluster, KubeError, isWorkload, type AppliedResource, type ResourceRef } from '@pipewright/kube';
import type { ResolvedDeploymentTarget } from '@pipewright/contracts';
import { QueryError } from '@pipewright/messaging';
import { failed, running, succeeded, type StageContext, type StageOutcome } from './stage-type';

/** How long PATCH, SCALE, ROLLOUT_UNDO and DELETE wait for the cluster to settle (the stage's own timeout may cut it shorter). */
export const DEFAULT_STABLE_TIMEOUT_SECONDS = 600;

/** What every Kubernetes stage says when a run is cancelled while it waits. */
export const LEFT_AS_IS = 'the cluster is left as it is (nothing was rolled back or deleted)';

/** Thrown inside a Kubernetes stage to end it with this outcome. */
export class StageStop extends Error {
  constructor(readonly outcome: StageOutcome) {
    super(outcome.kind === 'failed' ? outcome.reason : outcome.kind);
  }
}

/**
 * An answer of the environments service that trying again will not change: the resource is of
 * another project (FORBIDDEN) or the request was refused as it is.
 */
export function isRefusal(err: unknown): boolean {
  return err instanceof QueryError && ['FORBIDDEN', 'BAD_REQUEST', 'BAD_USER_INPUT', 'CONFLICT'].includes(err.code);
}

/**
 * The deployment target with its credentials, asked of the environments service each time a
 * stage starts or polls: nothing is cached past the call.
 */
export async function connect(ctx: StageContext, targetId: string): Promise<{ cluster: Cluster; target: ResolvedDeploymentTarget }> {
  let target: ResolvedDeploymentTarget;
  try {
    // With the run's project: the environments service refuses a target of another project.
    target = await ctx.request('rpc.environments.deployment-target.resolve', { id: targetId, projectId: ctx.run.projectId }, { timeoutMs: 5000 });
  } catch (err) {
    if (err instanceof QueryError && err.code === 'NOT_FOUND') {
      throw new StageStop(failed(`deployment target ${targetId} does not exist any more: choose another in the stage's targetId (the environments service said: ${err.message}; a run may only use its project's targets)`, false));
    }
    if (isRefusal(err)) throw new StageStop(failed(`deployment target ${targetId} cannot be used by this run: ${(err as Error).message}`, false));
    throw new StageStop(failed(`cannot read deployment target ${targetId}: the environments service did not answer (${(err as Error).message})`, true));
  }
  return { cluster: new Cluster(target), target };
}

/** A Kubernetes failure as a stage failure: what the cluster said; retried only when the library says it may pass. */
export function kubeFailure(err: unknown): StageOutcome {
  if (err instanceof StageStop) return err.outcome;
  if (err instanceof KubeError) return failed(err.message, err.retryable);
  throw err;
}

/** Runs a stage body, turning KubeError and StageStop into outcomes. */
export async function guarded(body: () => Promise<StageOutcome>): Promise<StageOutcome> {
  try {
    return await body();
  } catch (err) {
    return kubeFailure(err);
  }
}

export const describe = (r: Pick<AppliedResource, 'kind' | 'name' | 'namespace'>) => `${r.kind.toLowerCase()} ${r.name}${r.namespace ? ` in namespace ${r.namespace}` : ''}`;

/** What a waiting Kubernetes stage keeps in its state between polls. */
export interface WaitState {
  [key: string]: unknown;
  resources: AppliedResource[];
  /** Epoch ms after which the stage fails. */
  deadline: number;
  timeoutSeconds: number;
  polls: number;
  /** Anything the stage wants in its outputs when it succeeds. */
  outputs: Record<string, unknown>;
}

export function startWaiting(resources: AppliedResource[], timeoutSeconds: number, outputs: Record<string, unknown>): WaitState {
  return { resources, deadline: Date.now() + timeoutSeconds * 1000, timeoutSeconds, polls: 0, outputs };
}

/** Next poll: soon at first, then every few seconds. */
const pollDelay = (polls: number) => Math.min(5000, 500 * 1.5 ** polls);

/**
 * One look at the workloads a stage changed: succeeded when all are stable (with the revision each
 * reached), running while they roll out, failed at the deadline naming the pods that are not ready
 * and why. A cluster that cannot be reached for a moment does not fail the wait.
 */
export async function pollStable(ctx: StageContext, cluster: Cluster, state: WaitState): Promise<StageOutcome> {
  const resources: AppliedResource[] = [];
  const pending: string[] = [];
  for (const r of state.resources) {
    if (!isWorkload(r.kind)) {
      resources.push(r);
      continue;
    }
    let s;
    try {
      s = await cluster.stability(r);
    } catch (err) {
      if (err instanceof KubeError && err.retryable && Date.now() < state.deadline) return running(pollDelay(state.polls), { ...state, polls: state.polls + 1, lastError: err.message });
      return kubeFailure(err);
    }
    resources.push({ ...r, ...(s.revision !== undefined ? { revision: s.revision } : {}), ...(s.controllerRevision ? { controllerRevision: s.controllerRevision } : {}) });
    if (!s.stable) {
      const pods = s.notReady.slice(0, 5).map((p) => `pod ${p.pod}: ${p.reason}`);
      const more = s.notReady.length > 5 ? ` and ${s.notReady.length - 5} more` : '';
      pending.push(`${describe(r)}: ${s.summary}${pods.length ? `; not ready: ${pods.join('; ')}${more}` : ''}`);
    }
  }
  if (!pending.length) return succeeded({ ...state.outputs, resources: resources.map(output) });
  if (Date.now() >= state.deadline || ctx.timeLeftMs <= 0) {
    return failed(`not stable within ${state.timeoutSeconds} s (${LEFT_AS_IS}): ${pending.join(' | ')}`, false, { ...state.outputs, resources: resources.map(output) });
  }
  return running(Math.min(pollDelay(state.polls), Math.max(100, state.deadline - Date.now())), { ...state, polls: state.polls + 1, waitingFor: pending });
}

/** A resource as stage outputs list it. */
export function output(r: AppliedResource) {
  return { kind: r.kind, apiVersion: r.apiVersion, name: r.name, namespace: r.namespace, ...(r.revision !== undefined ? { revision: r.revision } : {}), ...(r.controllerRevision ? { controllerRevision: r.controllerRevision } : {}) };
}

/** The named resource a PATCH, SCALE, ROLLOUT_UNDO or DELETE acts on (namespace: the stage's, else the target's default). */
export function refOf(config: { kind: string; name: string; namespace?: string }, target: ResolvedDeploymentTarget): ResourceRef {
  return { kind: config.kind, name: config.name, namespace: config.namespace || target.defaultNamespace };
}

/** The `poll` of every stage that waits for a rollout: one look at the workloads it changed. */
export const pollRollout = <C extends { targetId: string }>(ctx: StageContext<C>): Promise<StageOutcome> =>
  guarded(async () => {
    const { cluster } = await connect(ctx, ctx.config.targetId);
    return pollStable(ctx, cluster, waitStateOf(ctx)!);
  });

/** The state a polled stage stored, or null on its first call. */
export function waitStateOf(ctx: StageContext): WaitState | null {
  return Array.isArray(ctx.stage.state.resources) ? (ctx.stage.state as WaitState) : null;
}
