import { isDeepStrictEqual } from 'node:util';
import { KubeError } from './kube-error';
import { REVISION_ANNOTATION, revisionOf, type KubeObject } from './stability';

/** The label the deployment controller adds to each ReplicaSet's template (never part of a Deployment's). */
export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** Annotations kept from the Deployment rather than copied from the ReplicaSet (kubectl's `annotationsToSkip`). */
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export interface RollbackPlan {
  fromRevision: number;
  toRevision: number;
  /** The JSON patch kubectl sends: replace spec.template and metadata.annotations. Null when the template already matches. */
  patch: { op: 'replace'; path: string; value: unknown }[] | null;
}

/** The ReplicaSets a Deployment controls (ownerReference with its uid), as `GetAllReplicaSets` finds them. */
export function ownedReplicaSets(deployment: KubeObject, replicaSets: KubeObject[]): KubeObject[] {
  const uid = deployment.metadata?.uid;
  return replicaSets.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === uid && o.controller !== false));
}

function templateWithoutHash(template: unknown): Record<string, unknown> {
  const copy = structuredClone((template ?? {}) as Record<string, unknown>);
  const metadata = (copy.metadata ?? {}) as { labels?: Record<string, string>; creationTimestamp?: unknown };
  if (metadata.labels) {
    delete metadata.labels[POD_TEMPLATE_HASH];
    if (!Object.keys(metadata.labels).length) delete metadata.labels;
  }
  if (metadata.creationTimestamp === null) delete metadata.creationTimestamp;
  copy.metadata = metadata;
  return copy;
}

/**
 * `kubectl rollout undo --to-revision`, with the target chosen as `revisionsBack` steps before the
 * current revision in the sorted list of the ReplicaSets' revisions. The patch replaces the
 * Deployment's template with that ReplicaSet's (without `pod-template-hash`) and its annotations
 * with the ReplicaSet's, keeping the Deployment's own revision/last-applied ones, as kubectl does.
 */
export function planRollback(deployment: KubeObject, replicaSets: KubeObject[], revisionsBack: number): RollbackPlan {
  const name = deployment.metadata?.name ?? '?';
  if (!Number.isInteger(revisionsBack) || revisionsBack < 1) {
    throw new KubeError(`revisionsBack must be a whole number of at least 1 (got ${revisionsBack})`, { reason: 'Invalid' });
  }
  if (deployment.spec?.paused) {
    throw new KubeError(`deployment ${name} is paused: resume it before rolling it back`, { reason: 'Paused' });
  }
  const byRevision = new Map<number, KubeObject>();
  for (const rs of ownedReplicaSets(deployment, replicaSets)) {
    const r = revisionOf(rs);
    if (r !== undefined) byRevision.set(r, rs);
  }
  const revisions = [...byRevision.keys()].sort((a, b) => a - b);
  if (!revisions.length) throw new KubeError(`deployment ${name} has no rollout history (no ReplicaSet with a revision)`, { reason: 'NoHistory' });
  const current = revisionOf(deployment) ?? revisions[revisions.length - 1];
  const at = revisions.indexOf(current);
  const from = at >= 0 ? at : revisions.length - 1;
  if (from - revisionsBack < 0) {
    throw new KubeError(`deployment ${name} has revisions ${revisions.join(', ')}; cannot go back ${revisionsBack} from revision ${current}`, { reason: 'RevisionNotFound' });
  }
  const toRevision = revisions[from - revisionsBack];
  const target = byRevision.get(toRevision)!;
  const template = templateWithoutHash(target.spec?.template);
  if (isDeepStrictEqual(template, templateWithoutHash(deployment.spec?.template))) {
    return { fromRevision: current, toRevision, patch: null };
  }
  const annotations: Record<string, string> = {};
  const own = deployment.metadata?.annotations ?? {};
  for (const key of ANNOTATIONS_TO_SKIP) if (own[key] !== undefined) annotations[key] = own[key];
  for (const [key, value] of Object.entries(target.metadata?.annotations ?? {})) if (!ANNOTATIONS_TO_SKIP.has(key)) annotations[key] = value;
  return {
    fromRevision: current,
    toRevision,
    patch: [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: annotations },
    ],
  };
}
