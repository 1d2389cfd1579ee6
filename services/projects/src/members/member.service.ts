import { Injectable } from '@nestjs/common';
import { isPlatformAdmin } from '@pipewright/auth';
import { DEFAULT_PROJECT_ID, Role, type Identity, type Membership, type ProjectRole } from '@pipewright/contracts';
import { writeOutbox } from '@pipewright/persistence';
import { connectionOf, cursorShapes, DomainError, pageArgs, type Connection } from '@pipewright/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { ProjectsError } from '../errors';
import { assertAccessTo, assertSignedInPerson } from '../projects/project-access';
import type { ProjectEntity } from '../projects/project.entity';
import { ProjectService } from '../projects/project.service';
import { normalizeRoles } from '../roles';
import type { BootstrapMember } from './members-bootstrap';
import { ProjectMemberEntity } from './member.entity';

const MAX_SUBJECT = 255;

/** Members of projects and the roles they hold there. */
@Injectable()
export class MemberService {
  constructor(
    private readonly ds: DataSource,
    private readonly projects: ProjectService,
  ) {}

  /** Makes `subject` a member with exactly `roles` (added or changed). */
  async set(projectId: string, subject: string, roles: ProjectRole[], by: Identity): Promise<ProjectMemberEntity> {
    assertSignedInPerson(by, 'manage members');
    assertAccessTo(by, await this.projects.getOrThrow(projectId), 'admin', 'manage its members');
    const who = subject.trim();
    const problems = [
      ...(!who ? [{ field: 'subject', message: 'must not be empty' }] : who.length > MAX_SUBJECT ? [{ field: 'subject', message: `must be at most ${MAX_SUBJECT} characters` }] : []),
      ...(!roles.length ? [{ field: 'roles', message: 'must name at least one role; to take every role away use removeProjectMember' }] : []),
    ];
    if (problems.length) throw DomainError.badInput(problems);
    const wanted = normalizeRoles(roles);
    return this.ds.transaction(async (tx) => {
      const project = await this.projects.lockOrThrow(tx, projectId);
      assertAccessTo(by, project, 'admin', 'manage its members');
      const existing = await tx.findOneBy(ProjectMemberEntity, { projectId: project.id, subject: who });
      if (existing?.roles.includes(Role.ADMIN) && !wanted.includes(Role.ADMIN)) await this.assertNotLastAdmin(tx, project, who, by, 'take ADMIN from');
      if (who === by.sub && wanted.includes(Role.APPROVAL_ADMIN) && !existing?.roles.includes(Role.APPROVAL_ADMIN)) {
        throw new DomainError('FORBIDDEN', `you cannot make yourself APPROVAL_ADMIN of project "${project.slug}": another project ADMIN must grant it, so that approvals stay with someone other than who administers`, {
          field: 'roles',
        });
      }
      const now = new Date();
      const [row]: RawMember[] = await tx.query(
        `INSERT INTO project_members (project_id, subject, roles, added_by, added_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (project_id, subject) DO UPDATE SET roles = EXCLUDED.roles, updated_at = EXCLUDED.updated_at
         RETURNING ${MEMBER_COLUMNS}`,
        [project.id, who, wanted, by.sub, now],
      );
      await writeOutbox(tx, 'evt.projects.member.changed.v1', { projectId: project.id, subject: who, roles: wanted, by: by.sub, at: now.toISOString() });
      return toEntity(row);
    });
  }

  /** Ends a membership; false when `subject` was not a member. */
  async remove(projectId: string, subject: string, by: Identity): Promise<boolean> {
    assertSignedInPerson(by, 'manage members');
    return this.ds.transaction(async (tx) => {
      const project = await this.projects.lockOrThrow(tx, projectId);
      assertAccessTo(by, project, 'admin', 'manage its members');
      const existing = await tx.findOneBy(ProjectMemberEntity, { projectId: project.id, subject });
      if (!existing) return false;
      if (existing.roles.includes(Role.ADMIN)) await this.assertNotLastAdmin(tx, project, subject, by, 'remove');
      await tx.delete(ProjectMemberEntity, { projectId: project.id, subject });
      await writeOutbox(tx, 'evt.projects.member.changed.v1', { projectId: project.id, subject, roles: [], by: by.sub, at: new Date().toISOString() });
      return true;
    });
  }

  async list(projectId: string, args: { first?: number | null; after?: string | null }): Promise<Connection<ProjectMemberEntity>> {
    const { first, after } = pageArgs(args.first, args.after, cursorShapes.key);
    const repo = this.ds.getRepository(ProjectMemberEntity);
    const page = repo.createQueryBuilder('m').where('m.project_id = :projectId', { projectId }).orderBy('m.subject').limit(first + 1);
    if (after) page.andWhere('m.subject > :subject', { subject: after[0] });
    const [rows, totalCount] = await Promise.all([page.getMany(), repo.countBy({ projectId })]);
    return connectionOf(rows, first, after, totalCount, (m) => [m.subject]);
  }

  /**
   * A subject's memberships, merged (union of roles) with the roles its identity provider's groups
   * grant by project slug (unknown slugs are ignored). One query: the gateway asks on every request.
   */
  async memberships(sub: string, groupRoles: { slug: string; roles: ProjectRole[] }[]): Promise<Membership[]> {
    const pairs = groupRoles.flatMap((g) => g.roles.map((role) => [g.slug, role] as const));
    const rows: { projectId: string; slug: string; roles: string[] }[] = await this.ds.query(
      `SELECT p.id::text AS "projectId", p.slug, array_agg(DISTINCT granted.role) AS roles
       FROM (
         SELECT m.project_id, unnest(m.roles) AS role FROM project_members m WHERE m.subject = $1
         UNION ALL
         SELECT g.id, grp.role FROM unnest($2::text[], $3::text[]) AS grp(slug, role) JOIN projects g ON g.slug = grp.slug
       ) granted
       JOIN projects p ON p.id = granted.project_id
       GROUP BY p.id, p.slug
       ORDER BY p.slug`,
      [sub, pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
    return rows.map((r) => ({ projectId: r.projectId, slug: r.slug, roles: normalizeRoles(r.roles) }));
  }

  /** Gives each subject its roles in `default` unless it is a member there already (never changes one). */
  async bootstrap(members: BootstrapMember[]): Promise<string[]> {
    if (!members.length) return [];
    return this.ds.transaction(async (tx) => {
      const added: string[] = [];
      const now = new Date();
      for (const m of members) {
        const roles = normalizeRoles(m.roles);
        const inserted: unknown[] = await tx.query(
          `INSERT INTO project_members (project_id, subject, roles, added_by, added_at, updated_at) VALUES ($1, $2, $3, 'system', $4, $4)
           ON CONFLICT (project_id, subject) DO NOTHING RETURNING subject`,
          [DEFAULT_PROJECT_ID, m.subject, roles, now],
        );
        if (!inserted.length) continue;
        added.push(m.subject);
        await writeOutbox(tx, 'evt.projects.member.changed.v1', { projectId: DEFAULT_PROJECT_ID, subject: m.subject, roles, by: 'system', at: now.toISOString() });
      }
      return added;
    });
  }

  /** A project keeps at least one ADMIN member, unless a platform ADMIN says otherwise. */
  private async assertNotLastAdmin(tx: EntityManager, project: ProjectEntity, subject: string, by: Identity, doing: string): Promise<void> {
    if (isPlatformAdmin(by)) return;
    const [{ others }]: { others: number }[] = await tx.query(
      `SELECT count(*)::int AS others FROM project_members WHERE project_id = $1 AND subject <> $2 AND 'ADMIN' = ANY(roles)`,
      [project.id, subject],
    );
    if (others === 0) {
      throw new ProjectsError('LAST_ADMIN', `cannot ${doing} "${subject}": it is the last ADMIN of project "${project.slug}"; make another member ADMIN first (or ask a platform ADMIN)`, {
        field: 'subject',
      });
    }
  }
}

const MEMBER_COLUMNS = `project_id::text AS "projectId", subject, roles, added_by AS "addedBy", added_at AS "addedAt", updated_at AS "updatedAt"`;
type RawMember = Omit<ProjectMemberEntity, 'roles'> & { roles: string[] };

function toEntity(row: RawMember): ProjectMemberEntity {
  return Object.assign(new ProjectMemberEntity(), { ...row, roles: normalizeRoles(row.roles) });
}
