import { TERMINAL_STAGE_STATUSES, type RunStatus, type StageStatus } from '@pipewright/contracts';

export interface GraphStage {
  refId: string;
  dependsOn: string[];
  status: StageStatus;
  /** Ended in a way that skips everything after it (an unheld precondition, a stopped branch). */
  blocksDownstream: boolean;
}

const DONE_FOR_DEPENDENTS: StageStatus[] = ['SUCCEEDED', 'SKIPPED', 'FAILED_CONTINUE'];

/**
 * What to do next: stages whose dependencies are all done start; stages below a blocking stage
 * (or below one skipped for that reason) are skipped. Stages without dependencies start together.
 */
export function schedule(stages: GraphStage[]): { start: string[]; skip: string[] } {
  const byRef = new Map(stages.map((s) => [s.refId, s]));
  const blocked = new Set<string>();
  // A stage is blocked when any ancestor blocks downstream; compute transitively in dependency order.
  const isBlocked = (ref: string, seen = new Set<string>()): boolean => {
    if (blocked.has(ref)) return true;
    if (seen.has(ref)) return false;
    seen.add(ref);
    const s = byRef.get(ref)!;
    for (const dep of s.dependsOn) {
      const d = byRef.get(dep);
      if (d && (d.blocksDownstream || isBlocked(dep, seen))) {
        blocked.add(ref);
        return true;
      }
    }
    return false;
  };
  const start: string[] = [];
  const skip: string[] = [];
  for (const s of stages) {
    if (s.status !== 'NOT_STARTED') continue;
    if (isBlocked(s.refId)) skip.push(s.refId);
    else if (s.dependsOn.every((d) => DONE_FOR_DEPENDENTS.includes(byRef.get(d)!.status))) start.push(s.refId);
  }
  return { start, skip };
}

/** Every refId below `refId` in the graph. */
export function descendants(stages: { refId: string; dependsOn: string[] }[], refId: string): Set<string> {
  const out = new Set<string>();
  let frontier = [refId];
  while (frontier.length) {
    const next = stages.filter((s) => s.dependsOn.some((d) => frontier.includes(d)) && !out.has(s.refId)).map((s) => s.refId);
    next.forEach((r) => out.add(r));
    frontier = next;
  }
  return out;
}

/** The run's status once no stage can move any more, or null while something still can. */
export function runOutcome(stages: GraphStage[]): RunStatus | null {
  if (stages.some((s) => !TERMINAL_STAGE_STATUSES.includes(s.status))) {
    // NOT_STARTED stages that can never start (a failed dependency) do not keep the run open.
    const movable = stages.some((s) => s.status === 'RUNNING' || s.status === 'WAITING');
    const { start, skip } = schedule(stages);
    if (movable || start.length || skip.length) return null;
  }
  if (stages.some((s) => s.status === 'STOPPED')) return 'STOPPED';
  if (stages.some((s) => s.status === 'FAILED')) return 'FAILED';
  if (stages.some((s) => s.status === 'CANCELED')) return 'CANCELED';
  return 'SUCCEEDED';
}
