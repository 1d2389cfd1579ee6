import { Injectable } from '@nestjs/common';
import { assertProjectAccess } from '@pipewright/auth';
import { isUuid, TERMINAL_RUN_STATUSES, TERMINAL_STAGE_STATUSES, type Identity, type PipelineSnapshot, type RunStatus } from '@pipewright/contracts';
import { MessageBus, QueryError } from '@pipewright/messaging';
import { connectionOf, DomainError, pageArgs, type Connection } from '@pipewright/platform';
import { randomUUID } from 'node:crypto';
import { DataSource, In, type EntityManager } from 'typeorm';
import { descendants } from '../engine/graph';
import { stableUuid } from '../engine/ids';
import { enqueue, RunState } from '../engine/run-state';
import { approversOf, assertMayApprove } from './approvers';
import type { ProjectScope } from './project-scope';
import { resolveParameters } from './run-parameters';
import { RunEntity, StageRunEntity, type Decision } from './run.entity';

/** A stable id for the child run of a RUN_PIPELINE stage attempt, so a repeated start finds it. */
const childRunId = (parent: { runId: string; refId: string; attempt: number }) => stableUuid(`run/${parent.runId}/${parent.refId}/${parent.attempt}`);

/** The RUN_PIPELINE stage attempt that starts a child run (its project is the parent run's). */
export interface ParentStage {
  runId: string;
  projectId: string;
  refId: string;
  attempt: number;
}

/** Runs: starting one from a frozen snapshot, reading them, and the decisions people make on them. */
@Injectable()
export class RunService {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
    private readonly state: RunState,
  ) {}

  /**
   * A run of the pipeline's revision (default: the latest), in the pipeline's project. A caller
   * needs DEVELOPER (or ADMIN) there; a child run (RUN_PIPELINE) must be of a pipeline in its
   * parent's project, and is refused with FORBIDDEN otherwise.
   */
  async create(pipelineId: string, parameters: unknown, revision: number | null, by: Identity, parent?: ParentStage): Promise<RunEntity> {
    if (!isUuid(pipelineId)) throw new DomainError('NOT_FOUND', `no pipeline with id "${pipelineId}"`, { field: 'pipelineId' });
    let snapshot: PipelineSnapshot;
    try {
      snapshot = await this.bus.request('rpc.pipelines.pipeline.snapshot', { pipelineId, ...(revision ? { revision } : {}) }, { timeoutMs: 5000 });
    } catch (err) {
      if (err instanceof QueryError && err.code === 'NOT_FOUND') throw new DomainError('NOT_FOUND', err.message, { field: revision ? 'revision' : 'pipelineId' });
      throw new DomainError('UNAVAILABLE', 'cannot read the pipeline: the pipelines service did not answer; try again');
    }
    if (parent && snapshot.projectId !== parent.projectId) {
      throw new DomainError(
        'FORBIDDEN',
        `pipeline "${snapshot.document.name}" (${pipelineId}) is in project ${snapshot.projectId}, not in this run's project ${parent.projectId}: RUN_PIPELINE may only start pipelines of its own project`,
        { field: 'pipelineId', projectId: snapshot.projectId },
      );
    }
    if (!parent) assertProjectAccess(by, snapshot.projectId, 'write', `run pipeline "${snapshot.document.name}"`);
    const values = resolveParameters(snapshot.document.parameters, parameters);
    const id = parent ? childRunId(parent) : randomUUID();
    return this.ds.transaction(async (tx) => {
      const existing = await tx.getRepository(RunEntity).findOneBy({ id });
      if (existing) return existing;
      const [{ last_number: number }] = await tx.query(
        `INSERT INTO run_counters (pipeline_id, last_number) VALUES ($1, 1)
         ON CONFLICT (pipeline_id) DO UPDATE SET last_number = run_counters.last_number + 1 RETURNING last_number`,
        [pipelineId],
      );
      const run = Object.assign(new RunEntity(), {
        id,
        projectId: snapshot.projectId,
        pipelineId,
        pipelineName: snapshot.document.name,
        revision: snapshot.revision,
        number,
        status: 'QUEUED' as RunStatus,
        parameters: values,
        snapshot: snapshot.document,
        artifacts: {},
        sequence: 0,
        reason: null,
        parentRunId: parent?.runId ?? null,
        parentRefId: parent?.refId ?? null,
        createdBy: by.sub,
        createdAt: new Date(),
        startedAt: null,
        finishedAt: null,
      });
      await tx.save(RunEntity, run);
      await tx.save(
        StageRunEntity,
        snapshot.document.stages.map((s, position) =>
          Object.assign(new StageRunEntity(), { runId: id, refId: s.refId, position, name: s.name, type: s.type, status: 'NOT_STARTED', attempt: 0, config: null, state: {}, outputs: null, error: null, decision: null, skipDownstream: false, startedAt: null, finishedAt: null, deadlineAt: null, restartedBy: null, restartedAt: null }),
        ),
      );
      await this.state.emitRun(tx, run);
      await enqueue(tx, 'StartRun', id);
      return run;
    });
  }

  get(id: string): Promise<RunEntity | null> {
    return isUuid(id) ? this.ds.getRepository(RunEntity).findOneBy({ id }) : Promise.resolve(null);
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
    const [row] = await this.ds.query(`SELECT state FROM run_history WHERE run_id = $1 AND sequence = $2`, [id, sequence]);
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
    const { first, after } = pageArgs(args.first, args.after);
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
    return this.ds.transaction(async (tx) => {
      const { run, stage } = await this.lockStage(tx, runId, refId);
      const what = `${type === 'JUDGEMENT' ? 'judge' : 'approve'} stage "${refId}" of run ${run.number} of "${run.pipelineName}"`;
      if (type === 'JUDGEMENT' || stage.type !== 'APPROVAL') assertProjectAccess(by, run.projectId, type === 'JUDGEMENT' ? 'write' : 'approve', what);
      else assertMayApprove(by, run.projectId, approversOf(this.state.docOf(run, refId).config), what);
      if (stage.type !== type) throw DomainError.badInput([{ field: 'refId', message: `"${refId}" is a ${stage.type} stage; ${type === 'JUDGEMENT' ? 'judge' : 'approve'} applies to ${type} stages` }]);
      if (stage.status !== 'WAITING') throw new DomainError('CONFLICT', `stage "${refId}" is ${stage.status}, not WAITING for a decision`, { field: 'refId', status: stage.status });
      const options = ((stage.config?.options as string[] | undefined) ?? []);
      if (type === 'JUDGEMENT' && decision.decision === 'CONTINUE' && options.length && !options.includes(decision.value ?? '')) {
        throw DomainError.badInput([{ field: 'value', message: `must be one of ${options.join(', ')} (got ${decision.value === null ? 'nothing' : `"${decision.value}"`})` }]);
      }
      const recorded: Decision = { ...decision, by: by.sub, at: new Date().toISOString() };
      stage.decision = recorded;
      if (decision.decision === 'STOP') {
        run.reason = `stopped at "${refId}" by ${recorded.by}${decision.comment ? `: ${decision.comment}` : ''}`;
        await this.state.finishStage(tx, run, stage, { status: 'STOPPED', error: run.reason });
      } else {
        const outputs = type === 'JUDGEMENT' ? { value: decision.value, judgedBy: recorded.by } : { approvedBy: recorded.by, approvedAt: recorded.at, comment: decision.comment };
        await this.state.finishStage(tx, run, stage, { status: 'SUCCEEDED', outputs });
      }
      return (await tx.getRepository(StageRunEntity).findOneBy({ runId, refId }))!;
    });
  }

  /**
   * Runs a finished stage again, with everything downstream of it: they go back to NOT_STARTED and
   * the run resumes. Who restarted it and when is recorded on the stage.
   */
  async restartStage(runId: string, refId: string, by: Identity): Promise<RunEntity> {
    const before = await this.get(runId);
    if (before) assertProjectAccess(by, before.projectId, 'write', `restart stage "${refId}" of run ${before.number} of "${before.pipelineName}"`);
    return this.ds.transaction(async (tx) => {
      const { run, stage } = await this.lockStage(tx, runId, refId);
      assertProjectAccess(by, run.projectId, 'write', `restart stage "${refId}" of run ${run.number} of "${run.pipelineName}"`);
      if (!TERMINAL_STAGE_STATUSES.includes(stage.status)) {
        throw new DomainError('CONFLICT', `stage "${refId}" is ${stage.status}; only a finished stage can be restarted`, { field: 'refId', status: stage.status });
      }
      const reset = new Set([refId, ...descendants(run.snapshot.stages, refId)]);
      const stages = await this.state.stagesOf(tx, run.id);
      for (const s of stages.filter((s) => reset.has(s.refId))) {
        await this.state.setStage(tx, run, s, {
          status: 'NOT_STARTED',
          attempt: 0,
          config: null,
          state: {},
          outputs: null,
          error: null,
          decision: null,
          skipDownstream: false,
          startedAt: null,
          finishedAt: null,
          deadlineAt: null,
          ...(s.refId === refId ? { restartedBy: by.sub, restartedAt: new Date() } : {}),
        });
      }
      run.finishedAt = null;
      run.reason = null;
      await tx.update(RunEntity, { id: run.id }, { finishedAt: null, reason: null });
      if (run.status !== 'RUNNING' && run.status !== 'WAITING') await this.state.setRunStatus(tx, run, 'RUNNING');
      await this.state.advance(tx, run);
      return run;
    });
  }

  /** Cancels a run, what it is running, and its child runs. */
  async cancel(runId: string, reason: string | null, by: Identity): Promise<RunEntity> {
    const before = await this.get(runId);
    if (before) assertProjectAccess(by, before.projectId, 'write', `cancel run ${before.number} of "${before.pipelineName}"`);
    return this.ds.transaction(async (tx) => {
      const run = isUuid(runId) ? await this.state.lockRun(tx, runId) : null;
      if (!run) throw new DomainError('NOT_FOUND', `no run with id "${runId}"`, { field: 'runId' });
      assertProjectAccess(by, run.projectId, 'write', `cancel run ${run.number} of "${run.pipelineName}"`);
      if (TERMINAL_RUN_STATUSES.includes(run.status)) throw new DomainError('CONFLICT', `run ${run.number} of "${run.pipelineName}" already ended ${run.status}`, { status: run.status });
      await this.cancelLocked(tx, run, `canceled by ${by.sub}${reason ? `: ${reason}` : ''}`);
      return run;
    });
  }

  /** Cancels a run whose project was deleted (no caller to check: the projects service decided). */
  async cancelForProjectDeletion(runId: string, why: string): Promise<void> {
    await this.ds.transaction(async (tx) => {
      const run = await this.state.lockRun(tx, runId);
      if (run && !TERMINAL_RUN_STATUSES.includes(run.status)) await this.cancelLocked(tx, run, why);
    });
  }

  private async cancelLocked(tx: EntityManager, run: RunEntity, why: string): Promise<void> {
    await this.state.haltOthers(tx, run, null, why);
    await this.state.setRunStatus(tx, run, 'CANCELED', why);
    await this.state.afterRunEnded(tx, run);
    const children: { id: string }[] = await tx.query(`SELECT id FROM runs WHERE parent_run_id = $1 AND status IN ('QUEUED', 'RUNNING', 'WAITING')`, [run.id]);
    for (const { id } of children) {
      const child = await this.state.lockRun(tx, id);
      if (child) await this.cancelLocked(tx, child, `parent run ${run.number} was canceled`);
    }
  }

  private async lockStage(tx: EntityManager, runId: string, refId: string) {
    const run = isUuid(runId) ? await this.state.lockRun(tx, runId) : null;
    if (!run) throw new DomainError('NOT_FOUND', `no run with id "${runId}"`, { field: 'runId' });
    const stage = await tx.getRepository(StageRunEntity).findOneBy({ runId, refId });
    if (!stage) throw new DomainError('NOT_FOUND', `run ${run.number} has no stage "${refId}"`, { field: 'refId' });
    return { run, stage };
  }
}
