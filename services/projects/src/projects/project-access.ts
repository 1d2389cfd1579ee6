import { assertProjectAccess, type ProjectAction } from '@pipewright/auth';
import type { Identity } from '@pipewright/contracts';

/**
 * assertProjectAccess for a project this service has loaded: the FORBIDDEN message names it by
 * slug even when the caller is not a member (and so has no slug for it in the identity).
 */
export function assertAccessTo(identity: Identity | undefined, project: { id: string; slug: string }, action: ProjectAction, what?: string): void {
  const known = identity?.projects?.some((m) => m.projectId === project.id);
  const named = identity && !known ? { ...identity, projects: [...(identity.projects ?? []), { projectId: project.id, slug: project.slug, roles: [] }] } : identity;
  assertProjectAccess(named, project.id, action, what);
}
