import { assertProjectAccess, isPlatformAdmin, type ProjectAction } from '@pipewright/auth';
import { Role, type Identity, type ProjectRole } from '@pipewright/contracts';
import { GraphQLError } from 'graphql';

/**
 * assertProjectAccess for a project this service has loaded: the FORBIDDEN message names it by
 * slug even when the caller is not a member (and so has no slug for it in the identity).
 */
export function assertAccessTo(identity: Identity | undefined, project: { id: string; slug: string }, action: ProjectAction, what?: string): void {
  const known = identity?.projects?.some((m) => m.projectId === project.id);
  const named = identity && !known ? { ...identity, projects: [...(identity.projects ?? []), { projectId: project.id, slug: project.slug, roles: [] }] } : identity;
  assertProjectAccess(named, project.id, action, what);
}

/**
 * Members, the project itself and API tokens are managed by people, never by an API token: a
 * leaked CI token must not outlive its revocation by granting roles or deleting the project.
 */
export function assertSignedInPerson(identity: Identity, what: string): void {
  if (identity.via === 'api-token') {
    throw new GraphQLError(`an API token cannot ${what}; sign in as a project ADMIN to do it`, { extensions: { code: 'FORBIDDEN' } });
  }
}

/**
 * The roles a caller may hand on (to an API token): what he holds in the project, with ADMIN
 * implying DEVELOPER and VIEWER, and DEVELOPER implying VIEWER. APPROVAL_ADMIN only when held:
 * a platform ADMIN holds no project role, so he may give every role but APPROVAL_ADMIN.
 */
export function grantableRoles(identity: Identity, projectId: string): Set<ProjectRole> {
  const held = new Set<ProjectRole>(identity.projects?.find((m) => m.projectId === projectId)?.roles ?? []);
  if (isPlatformAdmin(identity)) [Role.ADMIN].forEach((r) => held.add(r));
  if (held.has(Role.ADMIN)) [Role.DEVELOPER, Role.VIEWER].forEach((r) => held.add(r));
  if (held.has(Role.DEVELOPER)) held.add(Role.VIEWER);
  return held;
}
