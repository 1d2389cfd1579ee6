import type { StageDocument, UpstreamSource } from '@pipewright/contracts';
import type { StageRunEntity } from '../runs/run.entity';

/** Stage types whose outputs name a commit (the Source executor's `repositoryId`, `branch`, `commit`). */
const SOURCE_STAGE_TYPES = new Set(['SOURCE_GITHUB', 'SOURCE_GITLAB']);

/**
 * The commit a Build or Bake stage gets from the Source stages above it: the nearest SUCCEEDED one
 * (fewest `dependsOn` hops up from `refId`; on a tie, the one listed first in the pipeline), or
 * null when none is upstream. No end condition is needed: the graph says which stages feed which.
 */
export function nearestUpstreamSource(snapshotStages: StageDocument[], stageRuns: Map<string, StageRunEntity>, refId: string): UpstreamSource | null {
  const byRef = new Map(snapshotStages.map((s, position) => [s.refId, { doc: s, position }]));
  const seen = new Set([refId]);
  let frontier = [refId];
  // Breadth first, one hop per round, so the first round with a usable Source is the nearest.
  while (frontier.length) {
    const next: string[] = [];
    for (const ref of frontier) {
      for (const dep of byRef.get(ref)?.doc.dependsOn ?? []) {
        if (!seen.has(dep) && byRef.has(dep)) {
          seen.add(dep);
          next.push(dep);
        }
      }
    }
    const found = next
      .map((ref) => ({ position: byRef.get(ref)!.position, source: sourceOf(byRef.get(ref)!.doc, stageRuns.get(ref)) }))
      .filter((c): c is { position: number; source: UpstreamSource } => c.source !== null)
      .sort((a, b) => a.position - b.position)[0];
    if (found) return found.source;
    frontier = next;
  }
  return null;
}

/** What a Source stage resolved, when it is one and it succeeded with a commit in its outputs. */
function sourceOf(doc: StageDocument, run: StageRunEntity | undefined): UpstreamSource | null {
  if (!SOURCE_STAGE_TYPES.has(doc.type) || run?.status !== 'SUCCEEDED') return null;
  const o = run.outputs ?? {};
  if (typeof o.repositoryId !== 'string' || typeof o.commit !== 'string') return null;
  return { refId: doc.refId, repositoryId: o.repositoryId, branch: typeof o.branch === 'string' ? o.branch : '', commit: o.commit };
}
