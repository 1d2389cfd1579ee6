/** A moment as the console shows it: local date and time (the ISO value in the title). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export const ACTIVE_RUN_STATUSES: readonly string[] = ['QUEUED', 'RUNNING', 'WAITING'];
export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'WAITING', 'SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED'] as const;
/** Stages that have finished (restartStage accepts only these). */
export const TERMINAL_STAGE_STATUSES: readonly string[] = ['SUCCEEDED', 'FAILED', 'FAILED_CONTINUE', 'SKIPPED', 'CANCELED', 'STOPPED'];

export const runUrl = (slug: string, runId: string, stage?: string | null) => `/p/${slug}/runs/${runId}${stage ? `?stage=${encodeURIComponent(stage)}` : ''}`;
export const runsUrl = (slug: string, pipelineId?: string | null) => `/p/${slug}/runs${pipelineId ? `?pipeline=${encodeURIComponent(pipelineId)}` : ''}`;
export const editorUrl = (slug: string, pipelineId: string, stage?: string | null) => `/p/${slug}/pipelines/${pipelineId}${stage ? `?stage=${encodeURIComponent(stage)}` : ''}`;
/** A pipeline's Triggers tab with one trigger's details and deliveries open. */
export const triggerUrl = (slug: string, pipelineId: string, triggerId: string) => `/p/${slug}/pipelines/${pipelineId}?tab=triggers&trigger=${encodeURIComponent(triggerId)}`;
export const buildUrl = (slug: string, buildId: string) => `/p/${slug}/builds/${buildId}`;
export const stageBuildsUrl = (slug: string, pipelineId: string, refId: string) => `/p/${slug}/builds?pipeline=${encodeURIComponent(pipelineId)}&stage=${encodeURIComponent(refId)}`;

/** The stage types whose work the builds service does (their builds have logs). */
export const BUILD_STAGE_TYPES: readonly string[] = ['SOURCE_GITHUB', 'SOURCE_GITLAB', 'BUILD_JENKINS', 'BUILD_HOSTED', 'BAKE_MANIFEST'];

/** A JSON value pretty-printed. */
export const pretty = (v: unknown) => JSON.stringify(v, null, 2);
