import { registerEnumType } from '@nestjs/graphql';
import { Role, type ProjectRole as ProjectRoleValue } from '@pipewright/contracts';

/**
 * Project roles in GraphQL. The same values as the platform's `Role`, but its own enum object so
 * the schema names it `ProjectRole` (the platform's `Role` stays registered for platform roles).
 */
export const ProjectRole = { ...Role } as { readonly [K in ProjectRoleValue]: K };
export type ProjectRole = ProjectRoleValue;
registerEnumType(ProjectRole, {
  name: 'ProjectRole',
  description: 'What a member may do in one project: VIEWER reads; DEVELOPER edits and runs pipelines; ADMIN also manages environment settings, members and API tokens; APPROVAL_ADMIN decides approvals.',
});

/** The roles in their canonical order, without repeats. */
export function normalizeRoles(roles: readonly string[]): ProjectRole[] {
  const held = new Set(roles);
  return (Object.values(Role) as ProjectRole[]).filter((r) => held.has(r));
}
