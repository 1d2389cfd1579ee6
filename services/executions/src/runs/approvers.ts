import { assertProjectAccess, isPlatformAdmin, projectRolesOf } from '@pipewright/auth';
import { Role, stageDefinition, type Identity } from '@pipewright/contracts';
import { DomainError } from '@pipewright/platform';

/** Who may decide an APPROVAL stage (its config's `approvers`, see libs/contracts approval.stage.ts). */
export interface Approvers {
  /** Members holding this role may decide; APPROVAL_ADMIN when neither role nor subjects are given. */
  role: Role | null;
  /** Only these subjects (members of the run's project) may decide. */
  subjects: string[] | null;
}

/**
 * The approvers of an APPROVAL stage, from the pipeline's frozen revision (never from the evaluated
 * config: the schema refuses expressions there, and a run's parameters must not choose who approves).
 */
export function approversOf(config: unknown): Approvers {
  const parsed = stageDefinition('APPROVAL').config.safeParse(config ?? {});
  // A revision saved before `approvers` existed, or one that no longer parses: the safe default.
  const given = (parsed.success ? (parsed.data as { approvers?: { role?: Role; subjects?: string[] } }).approvers : undefined) ?? {};
  const subjects = given.subjects?.length ? given.subjects : null;
  return { role: given.role ?? (subjects ? null : Role.APPROVAL_ADMIN), subjects };
}

/** Who may decide, in words, for the stage's prompt and for refusals. */
export function describeApprovers(a: Approvers): string {
  const who = a.subjects ? `${a.subjects.map((s) => `"${s}"`).join(', ')}` : null;
  if (who && a.role) return `${who}, while a member of the run's project with ${a.role}`;
  if (who) return `${who}, while a member of the run's project`;
  return `a member of the run's project with ${a.role}`;
}

function forbidden(identity: Identity, projectId: string, a: Approvers, why: string): DomainError {
  const slug = identity.projects?.find((m) => m.projectId === projectId)?.slug;
  const project = slug ? `project "${slug}" (${projectId})` : `project ${projectId}`;
  const admin = isPlatformAdmin(identity) ? '; a platform ADMIN may not decide approvals' : '';
  return new DomainError('FORBIDDEN', `only ${describeApprovers(a)} may decide this approval (${project}): ${why}${admin}`, {
    projectId,
    ...(a.role ? { requiredRoles: [a.role] } : {}),
    ...(a.subjects ? { approvers: a.subjects } : {}),
  });
}

/**
 * Throws FORBIDDEN unless the caller may decide an approval of a run in `projectId`: by default an
 * APPROVAL_ADMIN there; else the stage's role and/or subjects, always among the project's members.
 * A platform ADMIN is no exception (ARCHITECTURE section 7).
 */
export function assertMayApprove(identity: Identity, projectId: string, a: Approvers, what: string): void {
  if (!a.subjects && a.role === Role.APPROVAL_ADMIN) return assertProjectAccess(identity, projectId, 'approve', what);
  // Named approvers are people: a token (whose subject its creator chose) decides only as an APPROVAL_ADMIN.
  if (identity.via === 'api-token') throw forbidden(identity, projectId, a, 'an API token cannot be one of the approvers this stage names');
  const held = projectRolesOf(identity, projectId);
  if (a.subjects && !a.subjects.includes(identity.sub)) throw forbidden(identity, projectId, a, `you (${identity.sub}) are not one of them`);
  if (!held.length) throw forbidden(identity, projectId, a, 'you are not a member of that project: a project ADMIN can add you (setProjectMember)');
  if (a.role && !held.includes(a.role)) throw forbidden(identity, projectId, a, `you have ${held.join(', ')} there`);
}
