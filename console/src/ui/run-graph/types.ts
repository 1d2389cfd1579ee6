/** One stage of a pipeline revision, as the graph draws it (its structure never changes during a run). */
export interface GraphStage {
  refId: string;
  name: string;
  type: string;
  dependsOn: readonly string[];
}

/** What a run says about a stage right now; a stage the run has not reached is NOT_STARTED. */
export interface GraphStageState {
  status: string;
  attempt?: number | null;
  startedAt?: string | null;
  finishedAt?: string | null;
}

export const NOT_STARTED: GraphStageState = { status: 'NOT_STARTED', attempt: 0, startedAt: null, finishedAt: null };

/** Statuses that still change by themselves (their duration ticks). */
export const ACTIVE_STAGE_STATUSES: readonly string[] = ['RUNNING', 'WAITING'];
