import { Inject, Injectable } from '@nestjs/common';
import { readableProjects } from '@pipewright/auth';
import { DEFAULT_PROJECT_ID, isUuid, projectSlugSchema, Role, type Identity } from '@pipewright/contracts';
import { MessageBus } from '@pipewright/messaging';
import { writeOutbox } from '@pipewright/persistence';
import { connectionOf, cursorShapes, DomainError, pageArgs, type Connection } from '@pipewright/platform';
import { randomUUID } from 'node:crypto';
import { DataSource, In, type EntityManager } from 'typeorm';
import { ApiTokenEntity } from '../api-tokens/api-token.entity';
import type { Config } from '../config';
import { ProjectMemberEntity } from '../members/member.entity';
import { ProjectsError } from '../errors';
import { PROJECTS_CONFIG } from '../tokens';
import { assertAccessTo, assertSignedInPerson } from './project-access';
import { ProjectEntity } from './project.entity';

const MAX_NAME = 200;
const MAX_DESCRIPTION = 4000;

/** The services asked what they hold of a project before it is deleted. */
const USAGE_SUBJECTS = [
  ['environments', 'rpc.environments.project.usage'],
  ['pipelines', 'rpc.pipelines.project.usage'],
  ['executions', 'rpc.executions.project.usage'],
  ['builds', 'rpc.builds.project.usage'],
  ['triggers', 'rpc.triggers.project.usage'],
] as const;

/** Projects: create, read, update, delete (refused while other services hold anything of it). */
@Injectable()
export class ProjectService {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
    @Inject(PROJECTS_CONFIG) private readonly config: Config,
  ) {}

  async create(input: { name: string; slug: string; description?: string | null }, by: Identity): Promise<ProjectEntity> {
    const slug = projectSlugSchema.safeParse(input.slug);
    const problems = [
      ...(slug.success ? [] : [{ field: 'input.slug', message: `${slug.error.issues[0].message} (got ${JSON.stringify(input.slug)})` }]),
      ...checkName(input.name, 'input.name'),
      ...checkDescription(input.description, 'input.description'),
    ];
    if (problems.length) throw DomainError.badInput(problems);
    return this.ds.transaction(async (tx) => {
      const now = new Date();
      const project = Object.assign(new ProjectEntity(), {
        id: randomUUID(),
        slug: input.slug,
        name: input.name.trim(),
        description: input.description?.trim() || null,
        createdAt: now,
        createdBy: by.sub,
        updatedAt: now,
        updatedBy: by.sub,
      });
      await tx.insert(ProjectEntity, project).catch((err) => {
        if ((err as { code?: string }).code === '23505') {
          throw new ProjectsError('SLUG_TAKEN', `input.slug: a project with slug "${input.slug}" already exists; choose another slug`, { field: 'input.slug' });
        }
        throw err;
      });
      const member = Object.assign(new ProjectMemberEntity(), { projectId: project.id, subject: by.sub, roles: [Role.ADMIN], addedBy: by.sub, addedAt: now, updatedAt: now });
      await tx.insert(ProjectMemberEntity, member);
      await this.emit(tx, project, 'created', by);
      await writeOutbox(tx, 'evt.projects.member.changed.v1', { projectId: project.id, subject: by.sub, roles: member.roles, by: by.sub, at: now.toISOString() });
      return project;
    });
  }

  async update(id: string, input: { name?: string | null; description?: string | null }, by: Identity): Promise<ProjectEntity> {
    assertSignedInPerson(by, 'change a project');
    assertAccessTo(by, await this.getOrThrow(id), 'admin', 'change the project');
    const problems = [...(input.name !== undefined ? checkName(input.name ?? '', 'input.name') : []), ...checkDescription(input.description, 'input.description')];
    if (problems.length) throw DomainError.badInput(problems);
    return this.ds.transaction(async (tx) => {
      const project = await this.lockOrThrow(tx, id);
      assertAccessTo(by, project, 'admin', 'change the project');
      if (input.name !== undefined && input.name !== null) project.name = input.name.trim();
      if (input.description !== undefined) project.description = input.description?.trim() || null;
      project.updatedAt = new Date();
      project.updatedBy = by.sub;
      await tx.save(ProjectEntity, project);
      await this.emit(tx, project, 'updated', by);
      return project;
    });
  }

  /**
   * Deletes a project with its members and API tokens. Unless forced, every service that holds
   * project data is asked first, and the delete is refused while any holds something.
   */
  async remove(id: string, force: boolean, by: Identity): Promise<string> {
    assertSignedInPerson(by, 'delete a project');
    const found = await this.getOrThrow(id);
    assertAccessTo(by, found, 'admin', 'delete the project');
    if (found.id === DEFAULT_PROJECT_ID) {
      throw new DomainError('BAD_USER_INPUT', `the project "${found.slug}" holds everything created without a project and can never be deleted`, { field: 'id' });
    }
    if (!force) await this.assertEmpty(found);
    return this.ds.transaction(async (tx) => {
      const project = await this.lockOrThrow(tx, id);
      const at = new Date().toISOString();
      const members = await tx.find(ProjectMemberEntity, { where: { projectId: id } });
      const live = await tx.getRepository(ApiTokenEntity).createQueryBuilder('t').where('t.project_id = :id AND t.revoked_at IS NULL', { id }).getMany();
      await tx.delete(ApiTokenEntity, { projectId: id });
      await tx.delete(ProjectMemberEntity, { projectId: id });
      await tx.delete(ProjectEntity, { id });
      await this.emit(tx, project, 'deleted', by);
      for (const m of members) await writeOutbox(tx, 'evt.projects.member.changed.v1', { projectId: id, subject: m.subject, roles: [], by: by.sub, at });
      for (const t of live) await writeOutbox(tx, 'evt.projects.api-token.changed.v1', { id: t.id, projectId: id, change: 'revoked', by: by.sub, at });
      return id;
    });
  }

  async get(id: string): Promise<ProjectEntity | null> {
    return isUuid(id) ? this.ds.getRepository(ProjectEntity).findOneBy({ id }) : null;
  }

  async getBySlug(slug: string): Promise<ProjectEntity | null> {
    return this.ds.getRepository(ProjectEntity).findOneBy({ slug });
  }

  async getOrThrow(id: string): Promise<ProjectEntity> {
    const project = await this.get(id);
    if (!project) throw new DomainError('NOT_FOUND', `no project with id "${id}"`, { id });
    return project;
  }

  /** The projects of these ids that exist, by id. */
  async byIds(ids: string[]): Promise<Map<string, ProjectEntity>> {
    const valid = [...new Set(ids.filter(isUuid))];
    const rows = valid.length ? await this.ds.getRepository(ProjectEntity).findBy({ id: In(valid) }) : [];
    return new Map(rows.map((p) => [p.id, p]));
  }

  /** The projects the caller may read (all for a platform ADMIN), by slug. */
  async list(identity: Identity, args: { first?: number | null; after?: string | null; search?: string | null }): Promise<Connection<ProjectEntity>> {
    const { first, after } = pageArgs(args.first, args.after, cursorShapes.key);
    const readable = readableProjects(identity);
    if (readable !== 'all' && !readable.length) return connectionOf([], first, after, 0, () => []);
    const base = () => {
      const q = this.ds.getRepository(ProjectEntity).createQueryBuilder('p');
      if (readable !== 'all') q.andWhere('p.id IN (:...ids)', { ids: readable.filter(isUuid) });
      const search = args.search?.trim();
      if (search) q.andWhere('(p.slug ILIKE :like OR p.name ILIKE :like)', { like: `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` });
      return q;
    };
    const page = base().orderBy('p.slug').limit(first + 1);
    if (after) page.andWhere('p.slug > :slug', { slug: after[0] });
    const [rows, totalCount] = await Promise.all([page.getMany(), base().getCount()]);
    return connectionOf(rows, first, after, totalCount, (p) => [p.slug]);
  }

  async lockOrThrow(tx: EntityManager, id: string): Promise<ProjectEntity> {
    const project = isUuid(id) ? await tx.getRepository(ProjectEntity).createQueryBuilder('p').where('p.id = :id', { id }).setLock('pessimistic_write').getOne() : null;
    if (!project) throw new DomainError('NOT_FOUND', `no project with id "${id}"`, { id });
    return project;
  }

  private async assertEmpty(project: ProjectEntity): Promise<void> {
    const answers = await Promise.all(
      USAGE_SUBJECTS.map(async ([service, subject]) => {
        try {
          const reply = await this.bus.request(subject, { projectId: project.id }, { timeoutMs: this.config.PROJECTS_USAGE_TIMEOUT_MS });
          return { service, counts: reply.counts };
        } catch {
          return { service, counts: null };
        }
      }),
    );
    const held = answers.flatMap((a) => Object.entries(a.counts ?? {}).filter(([, n]) => n > 0).map(([what, n]) => ({ service: a.service, what, count: n })));
    const silent = answers.filter((a) => !a.counts).map((a) => a.service);
    const name = `project "${project.slug}"`;
    if (held.length) {
      const silentNote = silent.length ? `; ${silent.join(' and ')} did not answer` : '';
      throw new ProjectsError('PROJECT_NOT_EMPTY', `${name} still holds ${held.map((h) => `${h.count} ${h.what}`).join(', ')}${silentNote}; delete those first, or pass force: true to delete the project anyway`, {
        usage: held,
      });
    }
    if (silent.length) {
      throw new DomainError('UNAVAILABLE', `cannot tell whether ${name} still holds anything: the ${silent.join(' and ')} service${silent.length > 1 ? 's' : ''} did not answer; try again, or pass force: true to delete it anyway`, {
        services: silent,
      });
    }
  }

  private emit(tx: EntityManager, p: ProjectEntity, change: 'created' | 'updated' | 'deleted', by: Identity) {
    return writeOutbox(tx, 'evt.projects.project.changed.v1', { id: p.id, slug: p.slug, change, by: by.sub, at: new Date().toISOString() });
  }
}

function checkName(name: string, field: string) {
  const trimmed = name.trim();
  if (!trimmed) return [{ field, message: 'must not be empty' }];
  if (trimmed.length > MAX_NAME) return [{ field, message: `must be at most ${MAX_NAME} characters (got ${trimmed.length})` }];
  return [];
}

function checkDescription(description: string | null | undefined, field: string) {
  return description && description.length > MAX_DESCRIPTION ? [{ field, message: `must be at most ${MAX_DESCRIPTION} characters (got ${description.length})` }] : [];
}
