import { projectSlugSchema, roleSchema, type Role } from '@pipewright/contracts';

/**
 * OIDC_GROUP_MAPPING: which platform roles and project roles an identity provider's groups grant.
 * Entries separated by "," or ";", each `group=ROLE` (a platform role; only ADMIN means anything)
 * or `group=<project slug>:ROLE[+ROLE]`, e.g.
 *   `pipewright-admins=ADMIN,payments-devs=payments:DEVELOPER,payments-leads=payments:ADMIN+APPROVAL_ADMIN`
 * A group may appear in several entries.
 */
export interface GroupMapping {
  platform: Map<string, Role[]>;
  projects: Map<string, { slug: string; roles: Role[] }[]>;
}

export function parseGroupMapping(text: string | undefined): GroupMapping {
  const mapping: GroupMapping = { platform: new Map(), projects: new Map() };
  for (const raw of (text ?? '').split(/[,;]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const eq = entry.lastIndexOf('=');
    if (eq <= 0) throw new Error(`entry "${entry}" must be group=ROLE or group=<project slug>:ROLE[+ROLE]`);
    const group = entry.slice(0, eq).trim();
    const grant = entry.slice(eq + 1).trim();
    const colon = grant.indexOf(':');
    const roleText = colon < 0 ? grant : grant.slice(colon + 1);
    const roles = roleText.split('+').map((r) => r.trim());
    for (const r of roles) if (!roleSchema.safeParse(r).success) throw new Error(`entry "${entry}": "${r}" is not a role (VIEWER, DEVELOPER, ADMIN or APPROVAL_ADMIN)`);
    if (colon < 0) {
      mapping.platform.set(group, [...(mapping.platform.get(group) ?? []), ...(roles as Role[])]);
    } else {
      const slug = grant.slice(0, colon).trim();
      if (!projectSlugSchema.safeParse(slug).success) throw new Error(`entry "${entry}": "${slug}" is not a project slug`);
      mapping.projects.set(group, [...(mapping.projects.get(group) ?? []), { slug, roles: roles as Role[] }]);
    }
  }
  return mapping;
}

/** What a caller's groups grant under the mapping. */
export function grantsOf(mapping: GroupMapping, groups: string[]): { platformRoles: Role[]; projectRoles: { slug: string; roles: Role[] }[] } {
  const platformRoles = new Set<Role>();
  const projectRoles: { slug: string; roles: Role[] }[] = [];
  for (const g of groups) {
    for (const r of mapping.platform.get(g) ?? []) platformRoles.add(r);
    projectRoles.push(...(mapping.projects.get(g) ?? []));
  }
  return { platformRoles: [...platformRoles], projectRoles };
}
