import type { RunPagePipelineQuery, RunPageRunFieldsFragment } from '../../gql/graphql';
import type { GraphStage, GraphStageState } from '../../ui/run-graph';

export type RunFields = RunPageRunFieldsFragment;
export type StageRunFields = RunFields['stages'][number];
export type RevisionPipeline = NonNullable<RunPagePipelineQuery['pipeline']>;
export type RevisionStage = RevisionPipeline['stages'][number];

/** What a waiting JUDGEMENT asks (services/executions judgement.stage.ts). */
export interface JudgementPrompt {
  description: string | null;
  options: string[];
}

/** What a waiting APPROVAL asks (services/executions approval.stage.ts). */
export interface ApprovalPrompt {
  description: string | null;
  message: string | null;
  approvers: { projectId?: string; role: string | null; subjects: string[] | null; who?: string } | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : null);

export function judgementPrompt(prompt: unknown): JudgementPrompt {
  const p = isRecord(prompt) ? prompt : {};
  return { description: str(p.description), options: Array.isArray(p.options) ? p.options.filter((o): o is string => typeof o === 'string') : [] };
}

export function approvalPrompt(prompt: unknown): ApprovalPrompt {
  const p = isRecord(prompt) ? prompt : {};
  const a = isRecord(p.approvers) ? p.approvers : null;
  return {
    description: str(p.description),
    message: str(p.message),
    approvers: a
      ? {
          projectId: str(a.projectId) ?? undefined,
          role: str(a.role),
          subjects: Array.isArray(a.subjects) ? a.subjects.filter((s): s is string => typeof s === 'string') : null,
          who: str(a.who) ?? undefined,
        }
      : null,
  };
}

/**
 * Whether the viewer may decide an approval, as the executions service checks it: without named
 * approvers, an APPROVAL_ADMIN of the project (canApprove); with them, a member of the project
 * holding the role (if any) and among the subjects (if any). A platform ADMIN as such never may.
 */
export function mayApprove(prompt: ApprovalPrompt, viewer: { sub: string; roles: readonly string[]; canApprove: boolean }): boolean {
  const a = prompt.approvers;
  if (!a || (!a.subjects && (a.role ?? 'APPROVAL_ADMIN') === 'APPROVAL_ADMIN')) return viewer.canApprove;
  if (!viewer.roles.length) return false;
  if (a.subjects && !a.subjects.includes(viewer.sub)) return false;
  if (a.role && !viewer.roles.includes(a.role)) return false;
  return true;
}

/** Who may approve, in words (the service's own `who` when the prompt has it). */
export function approversText(prompt: ApprovalPrompt): string {
  const a = prompt.approvers;
  if (a?.who) return a.who;
  const subjects = a?.subjects?.length ? a.subjects.map((s) => `"${s}"`).join(', ') : null;
  const role = a?.role ?? (subjects ? null : 'APPROVAL_ADMIN');
  if (subjects && role) return `${subjects}, while a member of the run's project with ${role}`;
  if (subjects) return `${subjects}, while a member of the run's project`;
  return `a member of the run's project with ${role}`;
}

/**
 * The graph's stages: those of the run's pipeline revision (with their dependencies), or, when the
 * revision cannot be read, the run's own stage list (without dependencies).
 */
export function graphStagesOf(revision: RevisionPipeline | null | undefined, run: RunFields): GraphStage[] {
  if (revision) {
    const seen = new Set(revision.stages.map((s) => s.refId));
    const extra = run.stages.filter((s) => !seen.has(s.refId)).map((s) => ({ refId: s.refId, name: s.name, type: s.type, dependsOn: [] }));
    return [...revision.stages.map((s) => ({ refId: s.refId, name: s.name, type: s.type, dependsOn: s.dependsOn })), ...extra];
  }
  return run.stages.map((s) => ({ refId: s.refId, name: s.name, type: s.type, dependsOn: [] }));
}

export function stateMapOf(run: RunFields): Map<string, GraphStageState> {
  return new Map(run.stages.map((s) => [s.refId, s]));
}

/** The highest run sequence seen: deliveries at or below it are old news (replays, a late query). */
export class SequenceGate {
  private seen = -1;
  get last(): number | null {
    return this.seen >= 0 ? this.seen : null;
  }
  accept(sequence: number): boolean {
    if (sequence <= this.seen) return false;
    this.seen = sequence;
    return true;
  }
}

export const isDecisionStage = (s: { type: string; status: string }) => s.status === 'WAITING' && (s.type === 'JUDGEMENT' || s.type === 'APPROVAL');
