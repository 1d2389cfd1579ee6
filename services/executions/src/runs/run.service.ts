import { Injectable } from '@nestjs/common';
import { assertProjectAccess } from '@pipewright/auth';
import { isUuid, TERMINAL_RUN_STATUSES, TERMINAL_STAGE_STATUSES, type Identity, type RunStatus } from '@pipewright/contracts';
import { preparedQuery } from '@pipewright/persistence';
import { connectionOf, cursorShapes, DomainError, pageArgs, type Connection } from '@pipewright/platform';
import { DataSource, In, type EntityManager } from 'typeorm';
import { Engine } from '../engine/engine';
import { approversOf, assertMayApprove } from './approvers';
import type { ProjectScope } from './project-scope';
import { RunFactory } from './run-factory';
import { RunEntity, StageRunEntity, type Decision } from './run.entity';

/**
 * Runs: starting one, reading them, and what people do to them (decisions, restarts, cancels).
 * Those are checked here and carried out by the engine's handlers (Engine.submit), the only code
 * that changes a run.
 */
@Injectable()
export class RunService {
  constructor(
    private readonly ds: DataSource,
    private readonly factory: RunFactory,
    private readonly engine: Engine,
  ) {}

  /** A run of the pipeline's revision (see RunFactory.create). */
  create(pipelineId: string, parameters: unknown, revision: number | null, by: Identity): Promise<RunEntity> {
    return this.factory.create(pipelineId, parameters, revision, by);
  }

  get(id: string): Promise<RunEntity | null> {
    return this.factory.get(id);
  }

  /** The run, when the caller may read its project (FORBIDDEN naming the project otherwise); null when there is none. */
  async getReadable(id: string, by: Identity): Promise<RunEntity | null> {
    const run = await this.get(id);
    if (run) assertProjectAccess(by, run.projectId, 'read', `read run ${run.number} of "${run.pipelineName}"`);
    return run;
  }

  /**
   * The run and its stages as they were at event `sequence` (run_history), or null when that
   * state is not kept (the run ended more than RUN_HISTORY_HOURS ago, or no such sequence).
   */
  async at(id: string, sequence: number): Promise<{ run: RunEntity; stages: StageRunEntity[] } | null> {
    if (!isUuid(id)) return null;
    const [row] = await preparedQuery<{ state: unknown }>(this.ds, `SELECT state FROM run_history WHERE run_id = $1 AND sequence = $2`, [id, sequence]);
    if (!row) return null;
    const { run, stages } = row.state as { run: Record<string, unknown>; stages: Record<string, unknown>[] };
    return { run: this.fromJson(RunEntity, run), stages: stages.map((s) => this.fromJson(StageRunEntity, s)) };
  }

  /** An entity from a row serialized with to_jsonb (column names, timestamps as text). */
  private fromJson<T extends object>(entity: new () => T, json: Record<string, unknown>): T {
    const target = new entity() as Record<string, unknown>;
    for (const column of this.ds.getMetadata(entity).columns) {
      const value = json[column.databaseName];
      target[column.propertyName] = value != null && column.type === 'timestamptz' ? new Date(value as string) : (value ?? null);
    }
    return target as T;
  }

  /** The stages of each run, in pipeline order, in one query. */
  async stagesOf(runIds: string[]): Promise<Map<string, StageRunEntity[]>> {
    const rows = runIds.length ? await this.ds.getRepository(StageRunEntity).find({ where: { runId: In(runIds) }, order: { position: 'ASC' } }) : [];
    const byRun = new Map(runIds.map((id) => [id, [] as StageRunEntity[]]));
    for (const row of rows) byRun.get(row.runId)!.push(row);
    return byRun;
  }

  /** Runs newest first, within `scope` (see projectScope): nothing of a project the caller may not read. */
  async list(scope: ProjectScope, args: { pipelineId?: string | null; status?: RunStatus | null; first?: number | null; after?: string | null }): Promise<Connection<RunEntity>> {
    const { first, after } = pageArgs(args.first, args.after, cursorShapes.createdAtId);
    if (args.pipelineId && !isUuid(args.pipelineId)) throw DomainError.badInput([{ field: 'pipelineId', message: `must be a pipeline id (got "${args.pipelineId}")` }]);
    const base = () => {
      const q = this.ds.getRepository(RunEntity).createQueryBuilder('r');
      if ('projectId' in scope) q.andWhere('r.project_id = :project', { project: scope.projectId });
      else if (scope.readable !== 'all') q.andWhere('r.project_id = ANY(CAST(:projects AS uuid[]))', { projects: scope.readable });
      if (args.pipelineId) q.andWhere('r.pipeline_id = :p', { p: args.pipelineId });
      if (args.status) q.andWhere('r.status = :s', { s: args.status });
      return q;
    };
    const page = base().orderBy('r.created_at', 'DESC').addOrderBy('r.id', 'DESC').limit(first + 1);
    if (after) page.andWhere('(r.created_at, r.id) < (:at, :id)', { at: after[0], id: after[1] });
    const [rows, totalCount] = await Promise.all([page.getMany(), base().getCount()]);
    return connectionOf(rows, first, after, totalCount, (r) => [r.createdAt.toISOString(), r.id]);
  }

  /**
   * Records a decision on a waiting JUDGEMENT or APPROVAL stage and lets the run move on. A judge
   * needs DEVELOPER (or ADMIN) in the run's project; an approver is who the stage names (by
   * default an APPROVAL_ADMIN of the run's project; never a platform ADMIN as such).
   */
  async decide(runId: string, refId: string, type: 'JUDGEMENT' | 'APPROVAL', decision: Omit<Decision, 'at' | 'by'>, by: Identity): Promise<StageRunEntity> {
    // Outsiders are refused before anything of the run is locked or told (its stages, their states).
    await this.getReadable(runId, by);
    await this.engine.submit(async (tx) => {
      const { run, stage } = await this.lockStage(tx, runId, refId);
      const what = `${type === 'JUDGEMENT' ? 'judge' : 'approve'} stage "${refId}" of run ${run.number} of "${run.pipelineName}"`;
      if (type === 'JUDGEMENT' || stage.type !== 'APPROVAL') assertProjectAccess(by, run.projectId, type === 'JUDGEMENT' ? 'write' : 'approve', what);
      else assertMayApprove(by, run.projectId, approversOf(run.snapshot.stages.find((s) => s.refId === refId)?.config), what);
      if (stage.type !== type) throw DomainError.badInput([{ field: 'refId', message: `"${refId}" is a ${stage.type} stage; ${type === 'JUDGEMENT' ? 'judge' : 'approve'} applies to ${type} stages` }]);
      if (stage.status !== 'WAITING') throw new DomainError('CONFLICT', `stage "${refId}" is ${stage.status}, not WAITING for a decision`, { field: 'refId', status: stage.status });
      const options = (stage.config?.options as string[] | undefined) ?? [];
      if (type === 'JUDGEMENT' && decision.decision === 'CONTINUE' && options.length && !options.includes(decision.value ?? '')) {
        throw DomainError.badInput([{ field: 'value', message: `must be one of ${options.join(', ')} (got ${decision.value === null ? 'nothing' : `"${decision.value}"`})` }]);
      }
      const recorded: Decision = { ...decision, by: by.sub, at: new Date().toISOString() };
      const result =
        decision.decision === 'STOP'
          ? { kind: 'stopped' as const, reason: `stopped at "${refId}" by ${recorded.by}${decision.comment ? `: ${decision.comment}` : ''}` }
          : { kind: 'succeeded' as const, outputs: type === 'JUDGEMENT' ? { value: decision.value, judgedBy: recorded.by } : { approvedBy: recorded.by, approvedAt: recorded.at, comment: decision.comment } };
      return { kind: 'CompleteStage', runId, refId, payload: { attempt: stage.attempt, generation: stage.generation, source: 'decision', result, decision: recorded } };
    });
    return (await this.ds.getRepository(StageRunEntity).findOneBy({ runId, refId }))!;
  }

  /**
   * Runs a finished stage again, with everything downstream of it: they go back to NOT_STARTED and
   * the run resumes. Who restarted it and when is recorded on the stage.
   */
  async restartStage(runId: string, refId: string, by: Identity): Promise<RunEntity> {
    const before = await this.get(runId);
    if (before) assertProjectAccess(by, before.projectId, 'write', `restart stage "${refId}" of run ${before.number} of "${before.pipelineName}"`);
    await this.engine.submit(async (tx) => {
      const { run, stage } = await this.lockStage(tx, runId, refId);
      assertProjectAccess(by, run.projectId, 'write', `restart stage "${refId}" of run ${run.number} of "${run.pipelineName}"`);
      if (!TERMINAL_STAGE_STATUSES.includes(stage.status)) {
        throw new DomainError('CONFLICT', `stage "${refId}" is ${stage.status}; only a finished stage can be restarted`, { field: 'refId', status: stage.status });
      }
      return { kind: 'RestartStage', runId, refId, payload: { by: by.sub } };
    });
    return (await this.get(runId))!;
  }

  /** Cancels a run, what it is running, and its child runs. */
  async cancel(runId: string, reason: string | null, by: Identity): Promise<RunEntity> {
    const before = await this.get(runId);
    if (before) assertProjectAccess(by, before.projectId, 'write', `cancel run ${before.number} of "${before.pipelineName}"`);
    await this.engine.submit(async (tx) => {
      const run = await this.lockRun(tx, runId);
      assertProjectAccess(by, run.projectId, 'write', `cancel run ${run.number} of "${run.pipelineName}"`);
      if (TERMINAL_RUN_STATUSES.includes(run.status)) throw new DomainError('CONFLICT', `run ${run.number} of "${run.pipelineName}" already ended ${run.status}`, { status: run.status });
      return { kind: 'CancelRun', runId, refId: null, payload: { reason: `canceled by ${by.sub}${reason ? `: ${reason}` : ''}` } };
    });
    return (await this.get(runId))!;
  }

  /** Cancels a run whose project was deleted (no caller to check: the projects service decided). */
  async cancelForProjectDeletion(runId: string, why: string): Promise<void> {
    await this.engine.submit(async () => ({ kind: 'CancelRun', runId, refId: null, payload: { reason: why } }));
  }

  private async lockRun(tx: EntityManager, runId: string): Promise<RunEntity> {
    const run = isUuid(runId) ? await tx.getRepository(RunEntity).createQueryBuilder('r').where('r.id = :runId', { runId }).setLock('pessimistic_write').getOne() : null;
    if (!run) throw new DomainError('NOT_FOUND', `no run with id "${runId}"`, { field: 'runId' });
    return run;
  }

  private async lockStage(tx: EntityManager, runId: string, refId: string) {
    const run = await this.lockRun(tx, runId);
    const stage = await tx.getRepository(StageRunEntity).findOneBy({ runId, refId });
    if (!stage) throw new DomainError('NOT_FOUND', `run ${run.number} has no stage "${refId}"`, { field: 'refId' });
    return { run, stage };
  }
}
