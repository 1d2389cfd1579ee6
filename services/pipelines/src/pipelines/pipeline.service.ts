import { Injectable } from '@nestjs/common';
import { assertProjectAccess, canInProject, projectOrDefault } from '@pipewright/auth';
import { isUuid, type Identity, type PipelineDocument } from '@pipewright/contracts';
import { preparedQuery, writeOutbox } from '@pipewright/persistence';
import { MessageBus } from '@pipewright/messaging';
import { assertProjectExists, connectionOf, cursorShapes, DomainError, pageArgs, type Connection } from '@pipewright/platform';
import { randomUUID } from 'node:crypto';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { PipelinesError } from '../errors';
import { PipelineEntity, PipelineReferenceEntity, PipelineRevisionEntity } from './pipeline.entity';
import { PipelineReferenceService } from './pipeline-references.service';
import { validatePipeline, type LocatedReference } from './pipeline-validation';

/** A pipeline with the revision being looked at. */
export interface PipelineView {
  pipeline: PipelineEntity;
  revision: PipelineRevisionEntity;
}

type Change = 'created' | 'updated' | 'deleted' | 'restored' | 'imported';

/**
 * Pipeline definitions: validation, revisions with optimistic concurrency. Each pipeline belongs
 * to one project: reading needs any role there, changing needs DEVELOPER or ADMIN there, and its
 * stages may use only that project's environment resources and pipelines.
 */
@Injectable()
export class PipelineService {
  constructor(
    private readonly ds: DataSource,
    private readonly references: PipelineReferenceService,
    private readonly bus: MessageBus,
  ) {}

  /** Creates a pipeline in a project (default: the project named `default`); the project is not part of the document. */
  async create(projectIdArg: string | null | undefined, input: unknown, by: Identity, change: Change = 'created'): Promise<PipelineView> {
    const projectId = projectOrDefault(projectIdArg);
    assertProjectAccess(by, projectId, 'write', change === 'imported' ? 'import a pipeline' : 'create a pipeline');
    await assertProjectExists(this.bus, by, projectId);
    const id = randomUUID();
    const { document, references } = await this.check(input, id, projectId);
    assertApproversAllowed(document, null, by, projectId);
    return this.ds.transaction(async (tx) => {
      await this.assertNameFree(tx, projectId, document.name, id);
      const now = new Date();
      const pipeline = Object.assign(new PipelineEntity(), { id, projectId, name: document.name, revision: 1, createdAt: now, createdBy: by.sub, updatedAt: now, updatedBy: by.sub, deletedAt: null });
      await tx.save(PipelineEntity, pipeline).catch((e) => this.rethrowNameConflict(e, document.name));
      const revision = await this.saveRevision(tx, pipeline, document, references, by, change === 'imported' ? 'imported' : 'created');
      await this.emit(tx, pipeline, change, by);
      return { pipeline, revision };
    });
  }

  /**
   * Saves `input` as the next revision, if the pipeline is still at `expectedRevision`. A pipeline
   * stays in its project: `projectId`, when given, must be its own.
   */
  async update(
    id: string,
    input: unknown,
    expectedRevision: number | null,
    by: Identity,
    opts: { note?: string; change?: Change; projectId?: string | null } = {},
  ): Promise<PipelineView> {
    const { note = 'updated', change = 'updated' } = opts;
    const { pipeline: current, revision: before } = await this.writable(id, by);
    if (opts.projectId && opts.projectId !== current.projectId) {
      throw DomainError.badInput([{ field: 'input.projectId', message: `is not the pipeline's project (${current.projectId}); a pipeline cannot move to another project: omit it, or import its YAML there` }]);
    }
    const { document, references } = await this.check(input, id, current.projectId);
    assertApproversAllowed(document, before.document, by, current.projectId);
    return this.ds.transaction(async (tx) => {
      const pipeline = await this.lockOrThrow(tx, id);
      if (expectedRevision !== null && pipeline.revision !== expectedRevision) throw staleRevision(pipeline, expectedRevision);
      await this.assertNameFree(tx, pipeline.projectId, document.name, id);
      Object.assign(pipeline, { name: document.name, revision: pipeline.revision + 1, updatedAt: new Date(), updatedBy: by.sub });
      await tx.save(PipelineEntity, pipeline).catch((e) => this.rethrowNameConflict(e, document.name));
      const revision = await this.saveRevision(tx, pipeline, document, references, by, note);
      await this.emit(tx, pipeline, change, by);
      return { pipeline, revision };
    });
  }

  /** Applies an edit to the stages of the revision the editor saw. */
  async editStages(id: string, expectedRevision: number, by: Identity, edit: (stages: Record<string, unknown>[]) => Record<string, unknown>[]): Promise<PipelineView> {
    const current = await this.writable(id, by);
    if (current.pipeline.revision !== expectedRevision) throw staleRevision(current.pipeline, expectedRevision);
    const document = current.revision.document;
    return this.update(id, { ...document, stages: edit(document.stages.map((s) => ({ ...s }))) }, expectedRevision, by);
  }

  async restore(id: string, revision: number, expectedRevision: number | null, by: Identity): Promise<PipelineView> {
    await this.writable(id, by);
    const old = await this.get(id, revision);
    if (!old) throw new DomainError('NOT_FOUND', `pipeline ${id} has no revision ${revision}`, { field: 'revision' });
    return this.update(id, old.revision.document, expectedRevision, by, { note: `restored from ${revision}`, change: 'restored' });
  }

  async remove(id: string, by: Identity): Promise<PipelineEntity> {
    return this.ds.transaction(async (tx) => {
      const pipeline = await this.lockOrThrow(tx, id);
      assertProjectAccess(by, pipeline.projectId, 'write', `delete pipeline ${id}`);
      const callers = await this.references.referencing('pipeline', id, tx);
      if (callers.length) {
        throw new PipelinesError('PIPELINE_IN_USE', `pipeline "${pipeline.name}" is run by ${callers.map((c) => `"${c.name}" (${c.id})`).join(', ')}; remove those Run Pipeline stages first`, { pipelines: callers });
      }
      pipeline.deletedAt = new Date();
      pipeline.updatedBy = by.sub;
      await tx.save(PipelineEntity, pipeline);
      await tx.delete(PipelineReferenceEntity, { pipelineId: id });
      await this.emit(tx, pipeline, 'deleted', by);
      return pipeline;
    });
  }

  async get(id: string, revision?: number | null): Promise<PipelineView | null> {
    if (!isUuid(id)) return null;
    const pipeline = await this.ds.getRepository(PipelineEntity).findOneBy({ id, deletedAt: IsNull() });
    if (!pipeline) return null;
    const rev = await this.ds.getRepository(PipelineRevisionEntity).findOneBy({ pipelineId: id, revision: revision ?? pipeline.revision });
    return rev ? { pipeline, revision: rev } : null;
  }

  /**
   * What a run is made from: the pipeline's project and one revision's document (the latest when
   * `revision` is null), in one prepared statement; null when there is no such pipeline or revision.
   * The executions service asks this for every run.
   */
  async snapshot(id: string, revision: number | null): Promise<{ projectId: string; revision: number; document: PipelineDocument } | null> {
    if (!isUuid(id)) return null;
    const [row] = await preparedQuery<{ projectId: string; revision: number; document: PipelineDocument }>(
      this.ds,
      `SELECT p.project_id AS "projectId", r.revision, r.document FROM pipelines p
       JOIN pipeline_revisions r ON r.pipeline_id = p.id AND r.revision = coalesce($2::int, p.revision)
       WHERE p.id = $1 AND p.deleted_at IS NULL`,
      [id, revision],
    );
    return row ?? null;
  }

  async getOrThrow(id: string, revision?: number | null): Promise<PipelineView> {
    const view = await this.get(id, revision);
    if (!view) throw new DomainError('NOT_FOUND', revision ? `pipeline ${id} has no revision ${revision}` : `no pipeline with id "${id}"`, { id });
    return view;
  }

  /** A pipeline the caller may read, or null when there is none; FORBIDDEN when it is another project's. */
  async find(id: string, revision: number | null | undefined, by: Identity): Promise<PipelineView | null> {
    const pipeline = isUuid(id) ? await this.ds.getRepository(PipelineEntity).findOneBy({ id, deletedAt: IsNull() }) : null;
    if (!pipeline) return null;
    assertProjectAccess(by, pipeline.projectId, 'read', `read pipeline ${id}`);
    return this.get(id, revision);
  }

  async findOrThrow(id: string, revision: number | null | undefined, by: Identity): Promise<PipelineView> {
    const view = await this.find(id, revision, by);
    if (!view) throw new DomainError('NOT_FOUND', revision ? `pipeline ${id} has no revision ${revision}` : `no pipeline with id "${id}"`, { id });
    return view;
  }

  /** The latest revision of a pipeline the caller may change (DEVELOPER or ADMIN in its project). */
  private async writable(id: string, by: Identity): Promise<PipelineView> {
    const view = await this.getOrThrow(id);
    assertProjectAccess(by, view.pipeline.projectId, 'write', `change pipeline ${id}`);
    return view;
  }

  async findByName(projectId: string, name: string): Promise<PipelineEntity | null> {
    return this.ds
      .getRepository(PipelineEntity)
      .createQueryBuilder('p')
      .where('p.project_id = :projectId AND lower(p.name) = lower(:name) AND p.deleted_at IS NULL', { projectId, name })
      .getOne();
  }

  /** One project's pipelines (default: the project named `default`), by name. */
  async list(projectIdArg: string | null | undefined, args: { first?: number | null; after?: string | null; search?: string | null }, by: Identity): Promise<Connection<PipelineView>> {
    const projectId = projectOrDefault(projectIdArg);
    assertProjectAccess(by, projectId, 'read', 'list its pipelines');
    const { first, after } = pageArgs(args.first, args.after, cursorShapes.nameId);
    const base = () => {
      const q = this.ds.getRepository(PipelineEntity).createQueryBuilder('p').where('p.project_id = :projectId AND p.deleted_at IS NULL', { projectId });
      const search = args.search?.trim();
      if (search) q.andWhere('p.name ILIKE :like', { like: `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` });
      return q;
    };
    const page = base().orderBy('lower(p.name)').addOrderBy('p.id').limit(first + 1);
    if (after) page.andWhere('(lower(p.name), p.id) > (:n, :i)', { n: after[0], i: after[1] });
    const [rows, totalCount] = await Promise.all([page.getMany(), base().getCount()]);
    const shown = rows.slice(0, first);
    const revisions = shown.length
      ? await this.ds.getRepository(PipelineRevisionEntity).find({ where: shown.map((p) => ({ pipelineId: p.id, revision: p.revision })) })
      : [];
    const byId = new Map(revisions.map((r) => [r.pipelineId, r]));
    const views = rows.map((pipeline) => ({ pipeline, revision: byId.get(pipeline.id)! }));
    return connectionOf(views, first, after, totalCount, (v) => [v.pipeline.name.toLowerCase(), v.pipeline.id]);
  }

  async revisions(id: string, args: { first?: number | null; after?: string | null }, by: Identity): Promise<Connection<PipelineRevisionEntity>> {
    await this.findOrThrow(id, null, by);
    const { first, after } = pageArgs(args.first, args.after, cursorShapes.revision);
    const q = this.ds.getRepository(PipelineRevisionEntity).createQueryBuilder('r').where('r.pipeline_id = :id', { id }).orderBy('r.revision', 'DESC').limit(first + 1);
    if (after) q.andWhere('r.revision < :rev', { rev: after[0] });
    const [rows, totalCount] = await Promise.all([q.getMany(), this.ds.getRepository(PipelineRevisionEntity).countBy({ pipelineId: id })]);
    return connectionOf(rows, first, after, totalCount, (r) => [String(r.revision)]);
  }

  /** How many pipelines (not deleted) a project holds. */
  async usage(projectId: string): Promise<number> {
    const [{ n }] = await this.ds.query('SELECT count(*)::int AS n FROM pipelines WHERE project_id = $1 AND deleted_at IS NULL', [projectId]);
    return n;
  }

  /** Validates a document completely (for a pipeline of `projectId`); throws BAD_USER_INPUT listing every problem. */
  private async check(input: unknown, selfId: string, projectId: string): Promise<{ document: PipelineDocument; references: LocatedReference[] }> {
    const outcome = validatePipeline(input, selfId);
    const problems = [...outcome.problems, ...(await this.references.problems(outcome.references, selfId, projectId))];
    if (problems.length || !outcome.document) throw DomainError.badInput(problems);
    return { document: outcome.document, references: outcome.references };
  }

  private async saveRevision(tx: EntityManager, pipeline: PipelineEntity, document: PipelineDocument, references: LocatedReference[], by: Identity, note: string) {
    const revision = Object.assign(new PipelineRevisionEntity(), { pipelineId: pipeline.id, revision: pipeline.revision, document, createdAt: new Date(), createdBy: by.sub, note });
    await tx.save(PipelineRevisionEntity, revision);
    await tx.delete(PipelineReferenceEntity, { pipelineId: pipeline.id });
    const unique = new Map(references.map((r) => [`${r.kind}/${r.id}`, { pipelineId: pipeline.id, kind: r.kind, resourceId: r.id }]));
    if (unique.size) await tx.insert(PipelineReferenceEntity, [...unique.values()]);
    return revision;
  }

  private async lockOrThrow(tx: EntityManager, id: string): Promise<PipelineEntity> {
    const pipeline = isUuid(id)
      ? await tx.getRepository(PipelineEntity).createQueryBuilder('p').where('p.id = :id AND p.deleted_at IS NULL', { id }).setLock('pessimistic_write').getOne()
      : null;
    if (!pipeline) throw new DomainError('NOT_FOUND', `no pipeline with id "${id}"`, { id });
    return pipeline;
  }

  private async assertNameFree(tx: EntityManager, projectId: string, name: string, id: string) {
    const clash = await tx
      .getRepository(PipelineEntity)
      .createQueryBuilder('p')
      .where('p.project_id = :projectId AND lower(p.name) = lower(:name) AND p.id <> :id AND p.deleted_at IS NULL', { projectId, name, id })
      .getOne();
    if (clash) throw new PipelinesError('NAME_TAKEN', `a pipeline named "${name}" already exists in this project (id ${clash.id}); choose another name`, { field: 'name', conflictingId: clash.id });
  }

  private rethrowNameConflict(err: unknown, name: string): never {
    if ((err as { code?: string }).code === '23505') throw new PipelinesError('NAME_TAKEN', `a pipeline named "${name}" already exists in this project; choose another name`, { field: 'name' });
    throw err;
  }

  private emit(tx: EntityManager, p: PipelineEntity, change: Change, by: Identity) {
    return writeOutbox(tx, 'evt.pipelines.pipeline.changed.v1', { id: p.id, name: p.name, revision: p.revision, change, by: by.sub, at: new Date().toISOString() });
  }
}

/**
 * Who may decide an APPROVAL (`config.approvers`) is for the project's APPROVAL_ADMINs to set (never
 * an API token): otherwise anyone who may edit the pipeline (a developer, a project ADMIN, a token)
 * could name himself and approve his own runs. FORBIDDEN names the stage.
 */
function assertApproversAllowed(document: PipelineDocument, previous: PipelineDocument | null, by: Identity, projectId: string): void {
  if (by.via !== 'api-token' && canInProject(by, projectId, 'approve')) return;
  const approversOf = (doc: PipelineDocument | null) =>
    new Map((doc?.stages ?? []).filter((s) => s.type === 'APPROVAL').map((s) => [s.refId, JSON.stringify((s.config as { approvers?: unknown }).approvers ?? null)]));
  const before = approversOf(previous);
  document.stages.forEach((stage, i) => {
    if (stage.type !== 'APPROVAL') return;
    const now = JSON.stringify((stage.config as { approvers?: unknown }).approvers ?? null);
    if (now !== (before.get(stage.refId) ?? 'null')) {
      throw new DomainError('FORBIDDEN', `stages[${i}].config.approvers: only an APPROVAL_ADMIN of the project, signed in, may choose who approves (project ${projectId}); leave approvers out, or ask one to set it`, {
        field: `stages[${i}].config.approvers`,
        projectId,
      });
    }
  });
}

function staleRevision(pipeline: PipelineEntity, expectedRevision: number): PipelinesError {
  return new PipelinesError('REVISION_MOVED', `pipeline "${pipeline.name}" is at revision ${pipeline.revision}, but this change was made to revision ${expectedRevision}; reload it and apply the change again`, {
    field: 'expectedRevision',
    currentRevision: pipeline.revision,
  });
}
