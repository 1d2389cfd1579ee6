import { projectRoleSchema, type ProjectRole } from '@pipewright/contracts';

export interface BootstrapMember {
  subject: string;
  roles: ProjectRole[];
}

/**
 * Parses PROJECT_MEMBERS_BOOTSTRAP: `subject=ROLE[+ROLE...]`, comma-separated
 * (e.g. `developer=DEVELOPER,ops=DEVELOPER+APPROVAL_ADMIN`). Empty means nobody. Throws saying
 * which entry is wrong and how to write it.
 */
export function parseMembersBootstrap(value: string): BootstrapMember[] {
  const members: BootstrapMember[] = [];
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const subject = eq < 0 ? '' : entry.slice(0, eq).trim();
    const roleList = eq < 0 ? '' : entry.slice(eq + 1).trim();
    if (!subject || !roleList) throw new Error(`entry "${entry}" must be subject=ROLE[+ROLE...] (e.g. developer=DEVELOPER or ops=DEVELOPER+APPROVAL_ADMIN)`);
    if (members.some((m) => m.subject === subject)) throw new Error(`names "${subject}" twice; give each subject one entry and join its roles with "+"`);
    const roles: ProjectRole[] = [];
    for (const raw of roleList.split('+').map((r) => r.trim())) {
      const role = projectRoleSchema.safeParse(raw);
      if (!role.success) throw new Error(`entry "${entry}": role "${raw}" must be VIEWER, DEVELOPER, ADMIN or APPROVAL_ADMIN`);
      if (!roles.includes(role.data)) roles.push(role.data);
    }
    members.push({ subject, roles });
  }
  return members;
}
