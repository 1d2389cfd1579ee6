import { Injectable } from '@nestjs/common';
import { isUuid, type EnvironmentKind, type Identity, type PipelineDocument } from '@pipewright/contracts';
import { MessageBus } from '@pipewright/messaging';
import { writeOutbox } from '@pipewright/persistence';
import { connectionOf, DomainError, pageArgs, type Connection, type FieldProblem } from '@pipewright/platform';
import { randomUUID } from 'node:crypto';
import { DataSource, In, IsNull, type EntityManager } from 'typeorm';
import { PipelineEntity, PipelineReferenceEntity, PipelineRevisionEntity } from './pipeline.entity';
import { validatePipeline, type LocatedReference } from './pipeline-validation';

/** A pipeline with the revision being looked at. */
export interface PipelineView {
  pipeline: PipelineEntity;
  revision: PipelineRevisionEntity;
}

type Change = 'created' | 'updated' | 'deleted' | 'restored' | 'imported';

const ENV_LABEL: Record<EnvironmentKind, string> = {
  'source-repository': 'source repository',
  'build-tool': 'build tool',
  'image-registry': 'image registry',
  'chart-repository': 'chart repository',
  'deployment-target': 'deployment target',
};

/** Pipeline definitions: validation, revisions with optimistic concurrency, references. */
@Injectable()
export class PipelineService {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
  ) {}

  async create(input: unknown, by: Identity, change: Change = 'created'): Promise<PipelineView> {
    const id = randomUUID();
    const { document, references } = await this.check(input, id);
    return this.ds.transaction(async (tx) => {
      await this.assertNameFree(tx, document.name, id);
      const now = new Date();
      const pipeline = Object.assign(new PipelineEntity(), { id, name: document.name, revision: 1, createdAt: now, createdBy: by.sub, updatedAt: now, updatedBy: by.sub, deletedAt: null });
      await tx.save(PipelineEntity, pipeline).catch((e) => this.rethrowNameConflict(e, document.name));
      const revision = await this.saveRevision(tx, pipeline, document, references, by, change === 'imported' ? 'imported' : 'created');
      await this.emit(tx, pipeline, change, by);
      return { pipeline, revision };
    });
  }

  /** Saves `input` as the next revision, if the pipeline is still at `expectedRevision`. */
  async update(id: string, input: unknown, expectedRevision: number | null, by: Identity, note = 'updated', change: Change = 'updated'): Promise<PipelineView> {
    await this.getOrThrow(id);
    const { document, references } = await this.check(input, id);
    return this.ds.transaction(async (tx) => {
      const pipeline = await this.lockOrThrow(tx, id);
      if (expectedRevision !== null && pipeline.revision !== expectedRevision) throw staleRevision(pipeline, expectedRevision);
      await this.assertNameFree(tx, document.name, id);
      Object.assign(pipeline, { name: document.name, revision: pipeline.revision + 1, updatedAt: new Date(), updatedBy: by.sub });
      await tx.save(PipelineEntity, pipeline).catch((e) => this.rethrowNameConflict(e, document.name));
      const revision = await this.saveRevision(tx, pipeline, document, references, by, note);
      await this.emit(tx, pipeline, change, by);
      return { pipeline, revision };
    });
  }

  /** Applies an edit to the stages of the revision the editor saw. */
  async editStages(id: string, expectedRevision: number, by: Identity, edit: (stages: Record<string, unknown>[]) => Record<string, unknown>[]): Promise<PipelineView> {
    const current = await this.getOrThrow(id);
    if (current.pipeline.revision !== expectedRevision) throw staleRevision(current.pipeline, expectedRevision);
    const document = current.revision.document;
    return this.update(id, { ...document, stages: edit(document.stages.map((s) => ({ ...s }))) }, expectedRevision, by);
  }

  async restore(id: string, revision: number, expectedRevision: number | null, by: Identity): Promise<PipelineView> {
    const old = await this.get(id, revision);
    if (!old) throw new DomainError('NOT_FOUND', `pipeline ${id} has no revision ${revision}`, { field: 'revision' });
    return this.update(id, old.revision.document, expectedRevision, by, `restored from ${revision}`, 'restored');
  }

  async remove(id: string, by: Identity): Promise<PipelineEntity> {
    return this.ds.transaction(async (tx) => {
      const pipeline = await this.lockOrThrow(tx, id);
      const callers = await this.pipelinesReferencing(tx, 'pipeline', id);
      if (callers.length) {
        throw new DomainError('CONFLICT', `pipeline "${pipeline.name}" is run by ${callers.map((c) => `"${c.name}" (${c.id})`).join(', ')}; remove those Run Pipeline stages first`, { pipelines: callers });
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

  async getOrThrow(id: string, revision?: number | null): Promise<PipelineView> {
    const view = await this.get(id, revision);
    if (!view) throw new DomainError('NOT_FOUND', revision ? `pipeline ${id} has no revision ${revision}` : `no pipeline with id "${id}"`, { id });
    return view;
  }

  async findByName(name: string): Promise<PipelineEntity | null> {
    return this.ds.getRepository(PipelineEntity).createQueryBuilder('p').where('lower(p.name) = lower(:name) AND p.deleted_at IS NULL', { name }).getOne();
  }

  async list(args: { first?: number | null; after?: string | null; search?: string | null }): Promise<Connection<PipelineView>> {
    const { first, after } = pageArgs(args.first, args.after);
    const base = () => {
      const q = this.ds.getRepository(PipelineEntity).createQueryBuilder('p').where('p.deleted_at IS NULL');
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

  async revisions(id: string, args: { first?: number | null; after?: string | null }): Promise<Connection<PipelineRevisionEntity>> {
    await this.getOrThrow(id);
    const { first, after } = pageArgs(args.first, args.after);
    const q = this.ds.getRepository(PipelineRevisionEntity).createQueryBuilder('r').where('r.pipeline_id = :id', { id }).orderBy('r.revision', 'DESC').limit(first + 1);
    if (after) q.andWhere('r.revision < :rev', { rev: Number(after[0]) });
    const [rows, totalCount] = await Promise.all([q.getMany(), this.ds.getRepository(PipelineRevisionEntity).countBy({ pipelineId: id })]);
    return connectionOf(rows, first, after, totalCount, (r) => [String(r.revision)]);
  }

  /** The pipelines whose current revision uses a resource (an environment resource or a pipeline). */
  referencing(kind: string, resourceId: string): Promise<{ id: string; name: string }[]> {
    return this.pipelinesReferencing(this.ds.manager, kind, resourceId);
  }

  private pipelinesReferencing(m: EntityManager, kind: string, resourceId: string): Promise<{ id: string; name: string }[]> {
    return m.query(
      `SELECT p.id::text AS id, p.name FROM pipeline_references r JOIN pipelines p ON p.id = r.pipeline_id
       WHERE r.kind = $1 AND r.resource_id = $2 AND p.deleted_at IS NULL ORDER BY lower(p.name)`,
      [kind, resourceId],
    );
  }

  /** Validates a document completely; throws BAD_USER_INPUT listing every problem. */
  private async check(input: unknown, selfId: string): Promise<{ document: PipelineDocument; references: LocatedReference[] }> {
    const outcome = validatePipeline(input, selfId);
    const problems = [...outcome.problems, ...(await this.referenceProblems(outcome.references, selfId))];
    if (problems.length || !outcome.document) throw DomainError.badInput(problems);
    return { document: outcome.document, references: outcome.references };
  }

  private async referenceProblems(references: LocatedReference[], selfId: string): Promise<FieldProblem[]> {
    const problems: FieldProblem[] = [];
    const env = references.filter((r): r is LocatedReference & { kind: EnvironmentKind } => r.kind !== 'pipeline');
    if (env.length) {
      let missing: { kind: EnvironmentKind; id: string }[];
      try {
        ({ missing } = await this.bus.request('rpc.environments.exists', { refs: env.map(({ kind, id }) => ({ kind, id })) }, { timeoutMs: 5000 }));
      } catch {
        throw new DomainError('UNAVAILABLE', 'cannot check the environment resources this pipeline uses: the environments service did not answer; try again');
      }
      const gone = new Set(missing.map((m) => `${m.kind}/${m.id}`));
      for (const r of env) if (gone.has(`${r.kind}/${r.id}`)) problems.push({ field: r.field, message: `names no ${ENV_LABEL[r.kind]} (id "${r.id}"); pick one from environment settings` });
    }
    const runs = references.filter((r) => r.kind === 'pipeline' && r.id !== selfId);
    if (runs.length) {
      const alive = await this.ds.getRepository(PipelineEntity).findBy({ id: In([...new Set(runs.map((r) => r.id))]), deletedAt: IsNull() });
      const names = new Map(alive.map((p) => [p.id, p.name]));
      const graph = await this.pipelineGraph();
      for (const r of runs) {
        if (!names.has(r.id)) {
          problems.push({ field: r.field, message: `names no pipeline (id "${r.id}")` });
          continue;
        }
        const path = findPath(graph, r.id, selfId);
        if (path) {
          const allNames = await this.namesOf(path);
          problems.push({ field: r.field, message: `would run this pipeline again: ${path.map((p) => (p === selfId ? 'this pipeline' : `"${allNames.get(p) ?? p}"`)).join(' → ')}` });
        }
      }
    }
    return problems;
  }

  private async pipelineGraph(): Promise<Map<string, string[]>> {
    const rows: { from: string; to: string }[] = await this.ds.query(
      `SELECT r.pipeline_id::text AS "from", r.resource_id AS "to" FROM pipeline_references r JOIN pipelines p ON p.id = r.pipeline_id WHERE r.kind = 'pipeline' AND p.deleted_at IS NULL`,
    );
    const graph = new Map<string, string[]>();
    for (const { from, to } of rows) graph.set(from, [...(graph.get(from) ?? []), to]);
    return graph;
  }

  private async namesOf(ids: string[]): Promise<Map<string, string>> {
    const rows = await this.ds.getRepository(PipelineEntity).findBy({ id: In(ids.filter(isUuid)) });
    return new Map(rows.map((p) => [p.id, p.name]));
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

  private async assertNameFree(tx: EntityManager, name: string, id: string) {
    const clash = await tx.getRepository(PipelineEntity).createQueryBuilder('p').where('lower(p.name) = lower(:name) AND p.id <> :id AND p.deleted_at IS NULL', { name, id }).getOne();
    if (clash) throw new DomainError('CONFLICT', `a pipeline named "${name}" already exists (id ${clash.id}); choose another name`, { field: 'name', conflictingId: clash.id });
  }

  private rethrowNameConflict(err: unknown, name: string): never {
    if ((err as { code?: string }).code === '23505') throw new DomainError('CONFLICT', `a pipeline named "${name}" already exists; choose another name`, { field: 'name' });
    throw err;
  }

  private emit(tx: EntityManager, p: PipelineEntity, change: Change, by: Identity) {
    return writeOutbox(tx, 'evt.pipelines.pipeline.changed.v1', { id: p.id, name: p.name, revision: p.revision, change, by: by.sub, at: new Date().toISOString() });
  }
}

function staleRevision(pipeline: PipelineEntity, expectedRevision: number): DomainError {
  return new DomainError('CONFLICT', `pipeline "${pipeline.name}" is at revision ${pipeline.revision}, but this change was made to revision ${expectedRevision}; reload it and apply the change again`, {
    field: 'expectedRevision',
    currentRevision: pipeline.revision,
  });
}

/** A path from `from` to `to` in a directed graph, or null. */
export function findPath(graph: Map<string, string[]>, from: string, to: string): string[] | null {
  const prev = new Map<string, string>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length) {
    const node = queue.shift()!;
    if (node === to) {
      const path = [to];
      while (path[0] !== from) path.unshift(prev.get(path[0])!);
      return path;
    }
    for (const next of graph.get(node) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        prev.set(next, node);
        queue.push(next);
      }
    }
  }
  return null;
}
