import { DEFAULT_PROJECT_ID, isUuid, Role, type Identity } from '@pipewright/contracts';
import { GraphQLError } from 'graphql';

/**
 * What a caller wants to do in a project, and the project roles that allow it (ARCHITECTURE §7):
 * - read: see its resources, pipelines, runs and builds (any member);
 * - write: edit and run pipelines, cancel, restart, judge (DEVELOPER, ADMIN);
 * - admin: environment settings, members, API tokens, the project itself (ADMIN);
 * - approve: decide approvals (APPROVAL_ADMIN only; a platform ADMIN may not).
 * A platform ADMIN may do every action but approve, in every project.
 */
export type ProjectAction = 'read' | 'write' | 'admin' | 'approve';

export const ROLES_FOR: Record<ProjectAction, readonly Role[]> = {
  read: [Role.VIEWER, Role.DEVELOPER, Role.ADMIN, Role.APPROVAL_ADMIN],
  write: [Role.DEVELOPER, Role.ADMIN],
  admin: [Role.ADMIN],
  approve: [Role.APPROVAL_ADMIN],
};

export function isPlatformAdmin(identity: Identity): boolean {
  return identity.roles.includes(Role.ADMIN);
}

/** The caller's roles in one project (none when not a member). */
export function projectRolesOf(identity: Identity, projectId: string): Role[] {
  return identity.projects?.find((m) => m.projectId === projectId)?.roles ?? [];
}

export function canInProject(identity: Identity, projectId: string, action: ProjectAction): boolean {
  if (action !== 'approve' && isPlatformAdmin(identity)) return true;
  const held = projectRolesOf(identity, projectId);
  return ROLES_FOR[action].some((r) => held.includes(r));
}

/**
 * The projects whose contents the caller may read: every project for a platform ADMIN ('all'),
 * else the ids of its memberships. Lists filter by this, so nothing of another project shows.
 */
export function readableProjects(identity: Identity): 'all' | string[] {
  if (isPlatformAdmin(identity)) return 'all';
  return (identity.projects ?? []).filter((m) => m.roles.some((r) => ROLES_FOR.read.includes(r))).map((m) => m.projectId);
}

/** The project a create or list applies to: the one given, else the project named `default`. */
export function projectOrDefault(projectId: string | null | undefined): string {
  if (projectId && !isUuid(projectId)) {
    throw new GraphQLError(`projectId must be a project id, e.g. ${DEFAULT_PROJECT_ID} (got "${projectId.slice(0, 80)}"); projects() lists them`, { extensions: { code: 'BAD_USER_INPUT', field: 'projectId' } });
  }
  return projectId || DEFAULT_PROJECT_ID;
}

function describeProject(identity: Identity, projectId: string): string {
  const slug = identity.projects?.find((m) => m.projectId === projectId)?.slug ?? (projectId === DEFAULT_PROJECT_ID ? 'default' : undefined);
  return slug ? `project "${slug}" (${projectId})` : `project ${projectId}`;
}

/**
 * Throws FORBIDDEN naming the project and the roles needed unless the caller may `action` there.
 * `what` says what was attempted, e.g. "create a pipeline".
 */
export function assertProjectAccess(identity: Identity | undefined, projectId: string, action: ProjectAction, what?: string): void {
  if (!identity) throw new GraphQLError('not authenticated', { extensions: { code: 'UNAUTHENTICATED' } });
  if (canInProject(identity, projectId, action)) return;
  const needed = ROLES_FOR[action].join(' or ');
  const held = projectRolesOf(identity, projectId);
  const doing = what ? ` to ${what}` : '';
  const why =
    action === 'approve' && isPlatformAdmin(identity)
      ? `; a platform ADMIN may not decide approvals: ask a member with APPROVAL_ADMIN`
      : held.length
        ? `; you have ${held.join(', ')} there`
        : `; you are not a member of it: a project ADMIN can add you (setProjectMember)`;
  throw new GraphQLError(`you need ${needed} in ${describeProject(identity, projectId)}${doing}${why}`, {
    extensions: { code: 'FORBIDDEN', projectId, requiredRoles: [...ROLES_FOR[action]] },
  });
}
