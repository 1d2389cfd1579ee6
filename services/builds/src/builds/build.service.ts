import { Injectable } from '@nestjs/common';
import { assertProjectAccess, projectOrDefault, readableProjects } from '@pipewright/auth';
import { isUuid, TERMINAL_BUILD_STATUSES, type BuildLogLine, type BuildStart, type BuildStatus, type Identity } from '@pipewright/contracts';
import { writeOutbox } from '@pipewright/persistence';
import { connectionOf, cursorShapes, DomainError, pageArgs, type Connection } from '@pipewright/platform';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { BuildEntity } from './build.entity';

/** At most this many log lines in one `log(offset, limit)` page. */
export const MAX_LOG_PAGE = 5000;

/** Builds: accepting the engine's commands (idempotently, numbered per stage), reading them and their logs. */
@Injectable()
export class BuildService {
  constructor(private readonly ds: DataSource) {}

  /**
   * A build for the command, created QUEUED once; a repeated command (same buildRequestId) finds
   * the same build. When `maxParallel` builds are busy already its log starts by saying it waits.
   * A build whose cancel came first ends CANCELED at once.
   */
  async accept(command: BuildStart, maxParallel: number): Promise<{ build: BuildEntity; created: boolean }> {
    return this.ds.transaction(async (tx) => {
      await lockRequest(tx, command.buildRequestId);
      const existing = await tx.getRepository(BuildEntity).findOneBy({ buildRequestId: command.buildRequestId });
      if (existing) return { build: existing, created: false };
      const [{ busy }] = await tx.query(`SELECT count(*)::int AS busy FROM builds WHERE status IN ('QUEUED', 'RUNNING')`);
      const [{ last_number: number }] = await tx.query(
        `INSERT INTO build_counters (pipeline_id, ref_id, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (pipeline_id, ref_id) DO UPDATE SET last_number = build_counters.last_number + 1 RETURNING last_number`,
        [command.pipelineId, command.refId],
      );
      const build = Object.assign(new BuildEntity(), {
        id: randomUUID(),
        buildRequestId: command.buildRequestId,
        projectId: projectOrDefault(command.projectId),
        runId: command.runId,
        runNumber: command.runNumber,
        pipelineId: command.pipelineId,
        refId: command.refId,
        stageType: command.stageType,
        number,
        status: 'QUEUED' as BuildStatus,
        command,
        state: {},
        outputs: null,
        error: null,
        warning: null,
        image: null,
        digest: null,
        cancelReason: null,
        logLines: 0,
        owner: null,
        leaseUntil: null,
        createdAt: new Date(),
        startedAt: null,
        finishedAt: null,
      });
      await tx.save(BuildEntity, build);
      // TypeORM answers a DELETE ... RETURNING with [rows, affected].
      const [[cancel]]: [{ reason: string }[], number] = await tx.query(`DELETE FROM build_cancels WHERE build_request_id = $1 RETURNING reason`, [command.buildRequestId]);
      if (cancel) {
        return { build: (await this.finish(build.id, { status: 'CANCELED', error: `canceled before it started: ${cancel.reason}` }, tx))!, created: true };
      }
      if (busy >= maxParallel) {
        const line = { offset: 0, at: new Date().toISOString(), text: `queued: ${busy} build(s) ahead of this one, at most ${maxParallel} run at once (BUILDS_MAX_PARALLEL); it starts when a slot frees up` };
        await tx.query(`INSERT INTO build_log_chunks (build_id, first_offset, line_count, lines) VALUES ($1, 0, 1, $2)`, [build.id, JSON.stringify([line])]);
        await tx.query(`UPDATE builds SET log_lines = 1 WHERE id = $1`, [build.id]);
        build.logLines = 1;
      }
      await tx.query(`NOTIFY pw_builds`);
      return { build, created: true };
    });
  }

  /**
   * Ends a build in its final status and reports it to the executions service in the same
   * transaction (outbox). Only a build that has not ended yet changes.
   */
  async finish(
    buildId: string,
    result: { status: BuildStatus; outputs?: Record<string, unknown> | null; error?: string | null; warning?: string | null; image?: string | null; digest?: string | null },
    tx?: EntityManager,
  ): Promise<BuildEntity | null> {
    const work = async (m: EntityManager) => {
      const [[row]] = await m.query(
        `UPDATE builds SET status = $2, outputs = $3, error = $4, warning = $5, image = coalesce($6, image), digest = coalesce($7, digest), finished_at = now(), owner = NULL, lease_until = NULL
         WHERE id = $1 AND status IN ('QUEUED', 'RUNNING') RETURNING id`,
        [buildId, result.status, result.outputs ?? null, result.error ?? null, result.warning ?? null, result.image ?? null, result.digest ?? null],
      );
      if (!row) return null;
      const build = (await m.getRepository(BuildEntity).findOneBy({ id: buildId }))!;
      await writeOutbox(m, 'evt.builds.build.finished.v1', {
        buildRequestId: build.buildRequestId,
        runId: build.runId,
        refId: build.refId,
        status: result.status as 'SUCCEEDED' | 'FAILED' | 'CANCELED',
        outputs: { ...(result.outputs ?? {}), buildNumber: build.number, ...(result.warning ? { warning: result.warning } : {}) },
        error: result.error ?? null,
        buildId: build.id,
      });
      return build;
    };
    return tx ? work(tx) : this.ds.transaction(work);
  }

  /** Asks a build to stop: a queued one ends CANCELED at once; a running one is aborted by its runner. */
  async requestCancel(buildRequestId: string, reason: string): Promise<BuildEntity | null> {
    return this.ds.transaction(async (tx) => {
      await lockRequest(tx, buildRequestId);
      const build = await tx.getRepository(BuildEntity).createQueryBuilder('b').where('b.build_request_id = :id', { id: buildRequestId }).setLock('pessimistic_write').getOne();
      if (!build) {
        // The cancel overtook its start: remembered, so the start ends the build at once.
        await tx.query(`INSERT INTO build_cancels (build_request_id, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [buildRequestId, reason]);
        return null;
      }
      if (TERMINAL_BUILD_STATUSES.includes(build.status)) return build;
      await tx.query(`UPDATE builds SET cancel_reason = $2 WHERE id = $1`, [build.id, reason]);
      if (build.status === 'QUEUED') await this.finish(build.id, { status: 'CANCELED', error: `canceled before it started: ${reason}` }, tx);
      await tx.query(`NOTIFY pw_builds`);
      return build;
    });
  }

  get(id: string): Promise<BuildEntity | null> {
    return isUuid(id) ? this.ds.getRepository(BuildEntity).findOneBy({ id }) : Promise.resolve(null);
  }

  async getOrThrow(id: string): Promise<BuildEntity> {
    const build = await this.get(id);
    if (!build) throw new DomainError('NOT_FOUND', `no build with id "${id}"`, { field: 'id' });
    return build;
  }

  /** The build, when the caller may read its project (FORBIDDEN naming the project otherwise); null when there is none. */
  async getReadable(id: string, by: Identity): Promise<BuildEntity | null> {
    const build = await this.get(id);
    if (build) assertProjectAccess(by, build.projectId, 'read', `read build #${build.number} of stage ${build.refId}`);
    return build;
  }

  /** Builds newest first, within `scope` (see projectScope): nothing of a project the caller may not read. */
  async list(
    scope: ProjectScope,
    args: { pipelineId?: string | null; stageRefId?: string | null; runId?: string | null; first?: number | null; after?: string | null },
  ): Promise<Connection<BuildEntity>> {
    const { first, after } = pageArgs(args.first, args.after, cursorShapes.createdAtId);
    for (const field of ['pipelineId', 'runId'] as const) {
      if (args[field] && !isUuid(args[field]!)) throw DomainError.badInput([{ field, message: `must be an id (got "${args[field]}")` }]);
    }
    const base = () => {
      const q = this.ds.getRepository(BuildEntity).createQueryBuilder('b');
      if ('projectId' in scope) q.andWhere('b.project_id = :project', { project: scope.projectId });
      else if (scope.readable !== 'all') q.andWhere('b.project_id = ANY(CAST(:projects AS uuid[]))', { projects: scope.readable });
      if (args.pipelineId) q.andWhere('b.pipeline_id = :p', { p: args.pipelineId });
      if (args.stageRefId) q.andWhere('b.ref_id = :r', { r: args.stageRefId });
      if (args.runId) q.andWhere('b.run_id = :run', { run: args.runId });
      return q;
    };
    const page = base().orderBy('b.created_at', 'DESC').addOrderBy('b.id', 'DESC').limit(first + 1);
    if (after) page.andWhere('(b.created_at, b.id) < (:at, :id)', { at: after[0], id: after[1] });
    const [rows, totalCount] = await Promise.all([page.getMany(), base().getCount()]);
    return connectionOf(rows, first, after, totalCount, (b) => [b.createdAt.toISOString(), b.id]);
  }

  /** Log lines from `offset` (0-based), at most `limit`. */
  async readLog(buildId: string, offset: number, limit: number): Promise<BuildLogLine[]> {
    if (!Number.isInteger(offset) || offset < 0) throw DomainError.badInput([{ field: 'offset', message: `must be a whole number >= 0 (got ${offset})` }]);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LOG_PAGE) throw DomainError.badInput([{ field: 'limit', message: `must be between 1 and ${MAX_LOG_PAGE} (got ${limit})` }]);
    const chunks: { lines: BuildLogLine[] }[] = await this.ds.query(
      `SELECT lines FROM build_log_chunks WHERE build_id = $1 AND first_offset + line_count > $2 AND first_offset < $3 ORDER BY first_offset`,
      [buildId, offset, offset + limit],
    );
    return chunks.flatMap((c) => c.lines).filter((l) => l.offset >= offset && l.offset < offset + limit);
  }
}

/** What a builds list is narrowed to: one project (checked), or the projects the caller may read. */
export type ProjectScope = { projectId: string } | { readable: 'all' | string[] };

/**
 * The projects a builds list covers: the one given or, without one, every project the caller may
 * read when a parent (pipelineId, runId) narrows the list, else the default project.
 */
export function projectScope(identity: Identity, projectId: string | null | undefined, narrowedByParent: boolean): ProjectScope {
  if (!projectId && narrowedByParent) return { readable: readableProjects(identity) };
  const id = projectOrDefault(projectId);
  if (!isUuid(id)) throw DomainError.badInput([{ field: 'projectId', message: `must be a project id (got "${id}")` }]);
  assertProjectAccess(identity, id, 'read', 'list its builds');
  return { projectId: id };
}

/** Serializes a start and a cancel of the same build request (the two arrive on separate consumers). */
async function lockRequest(tx: EntityManager, buildRequestId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`build-request/${buildRequestId}`]);
}
