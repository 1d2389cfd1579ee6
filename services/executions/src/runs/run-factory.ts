import { Injectable } from '@nestjs/common';
import { assertProjectAccess } from '@pipewright/auth';
import { isUuid, parseMessage, subjects, type Identity, type PipelineSnapshot, type RunStatus, type RunTrigger } from '@pipewright/contracts';
import { preparedQuery } from '@pipewright/persistence';
import { MessageBus, QueryError } from '@pipewright/messaging';
import { DomainError } from '@pipewright/platform';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { childRunIdOf } from '../engine/ids';
import { entityToJson } from '../engine/run-tx';
import { resolveParameters } from './run-parameters';
import { RunEntity, StageRunEntity } from './run.entity';

/** The RUN_PIPELINE stage attempt that starts a child run (its project is the parent run's). */
export interface ParentStage {
  runId: string;
  projectId: string;
  refId: string;
  attempt: number;
  generation: number;
}

/** A run a trigger's delivery starts: its id (chosen by the triggers service), project, starting artifacts and what started it. */
export interface TriggeredRun {
  runId: string;
  projectId: string;
  artifacts: Record<string, unknown>;
  trigger: RunTrigger;
}

/**
 * A run with its number, stages, first event and history row, and its StartRun: $1 the pipeline,
 * $2 the run, $3 its stages, $4 its history row, $5/$6 the event's subject and payload. The
 * number is the pipeline's counter's next, written into the run, its history and its event.
 */
const CREATE_RUN = `WITH
  c AS (INSERT INTO run_counters (pipeline_id, last_number) VALUES ($1, 1)
        ON CONFLICT (pipeline_id) DO UPDATE SET last_number = run_counters.last_number + 1 RETURNING last_number),
  r AS (INSERT INTO runs SELECT * FROM jsonb_populate_record(NULL::runs, $2::jsonb || jsonb_build_object('number', (SELECT last_number FROM c))) RETURNING id, number),
  s AS (INSERT INTO stage_runs SELECT * FROM jsonb_populate_recordset(NULL::stage_runs, $3::jsonb) RETURNING 1),
  h AS (INSERT INTO run_history (run_id, sequence, state) SELECT r.id, 1, jsonb_set($4::jsonb, '{run,number}', to_jsonb(r.number)) FROM r RETURNING 1),
  o AS (INSERT INTO outbox (subject, payload) SELECT $5, jsonb_set($6::jsonb, '{number}', to_jsonb(r.number)) FROM r RETURNING 1),
  m AS (INSERT INTO engine_messages (kind, run_id, ref_id, payload) SELECT 'StartRun', id, NULL, '{}' FROM r RETURNING 1)
  SELECT number FROM r`;

/** Creates runs from a frozen pipeline snapshot (QUEUED, with a StartRun message) and reads them. */
@Injectable()
export class RunFactory {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
  ) {}

  /**
   * A run of the pipeline's revision (default: the latest), in the pipeline's project. A caller
   * needs DEVELOPER (or ADMIN) there; a child run (RUN_PIPELINE) must be of a pipeline in its
   * parent's project, and is refused with FORBIDDEN otherwise.
   */
  async create(pipelineId: string, parameters: unknown, revision: number | null, by: Identity, parent?: ParentStage, triggered?: TriggeredRun): Promise<RunEntity> {
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
    if (triggered && snapshot.projectId !== triggered.projectId) {
      throw new DomainError('FORBIDDEN', `pipeline "${snapshot.document.name}" (${pipelineId}) is in project ${snapshot.projectId}, not in the trigger's project ${triggered.projectId}`, { field: 'pipelineId' });
    }
    // A trigger's run is checked when the trigger is saved (DEVELOPER there) and made for its creator.
    if (!parent && !triggered) assertProjectAccess(by, snapshot.projectId, 'write', `run pipeline "${snapshot.document.name}"`);
    const values = resolveParameters(snapshot.document.parameters, parameters);
    const id = parent ? childRunIdOf({ runId: parent.runId, refId: parent.refId, attempt: parent.attempt, generation: parent.generation }) : (triggered?.runId ?? randomUUID());
    // Everything but the run's number is made before the database is asked: the pipeline's
    // counter row is locked from the statement that takes the next number until the commit, so
    // that statement is the whole write (no JavaScript runs while other runs of the pipeline wait).
    const run = Object.assign(new RunEntity(), {
      id,
      projectId: snapshot.projectId,
      pipelineId,
      pipelineName: snapshot.document.name,
      revision: snapshot.revision,
      number: 1, // the counter's next, set by the insert
      status: 'QUEUED' as RunStatus,
      parameters: values,
      snapshot: snapshot.document,
      artifacts: triggered?.artifacts ?? {},
      sequence: 1,
      version: 0,
      reason: null,
      parentRunId: parent?.runId ?? null,
      parentRefId: parent?.refId ?? null,
      createdBy: by.sub,
      trigger: triggered?.trigger ?? null,
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
    });
    const stages = snapshot.document.stages.map((s, position) =>
      Object.assign(new StageRunEntity(), { runId: id, refId: s.refId, position, name: s.name, type: s.type, status: 'NOT_STARTED', attempt: 0, generation: 0, config: null, state: {}, outputs: null, error: null, decision: null, skipDownstream: false, startedAt: null, finishedAt: null, deadlineAt: null, restartedBy: null, restartedAt: null }),
    );
    // The run, its stages, its first event (sequence 1: QUEUED, with its history row) and its
    // StartRun, in one statement with the number (in the run, its history and its event).
    const subject = 'evt.executions.run.status-changed.v1';
    const event = parseMessage(subject, subjects[subject].payload, { runId: id, pipelineId, number: run.number, status: run.status, reason: null, at: run.createdAt.toISOString(), sequence: 1 });
    const runMeta = this.ds.getMetadata(RunEntity);
    const stageMeta = this.ds.getMetadata(StageRunEntity);
    const history = { run: entityToJson(runMeta, run, ['snapshot', 'version']), stages: stages.map((st) => ({ ...entityToJson(stageMeta, st, ['config', 'state']), state: { prompt: null } })) };
    const params = [pipelineId, JSON.stringify(entityToJson(runMeta, run)), JSON.stringify(stages.map((st) => entityToJson(stageMeta, st))), JSON.stringify(history), subject, JSON.stringify(event)];
    const insert = async (db: EntityManager | DataSource) => {
      const [{ number }] = await preparedQuery<{ number: number }>(db, CREATE_RUN, params);
      run.number = number;
      return run;
    };
    if (triggered) {
      // The trigger chose the id: a repeated command (a redelivery) finds its run and makes none.
      try {
        return await insert(this.ds);
      } catch (err) {
        const existing = (err as { code?: string }).code === '23505' ? await this.get(id) : null;
        if (existing) return existing;
        throw err;
      }
    }
    if (!parent) return insert(this.ds);
    return this.ds.transaction(async (tx) => {
      // Under the parent's lock: a child is created only while the stage attempt that asks for it
      // still runs, so a halt of the parent (which cancels its children) never misses one.
      // The lock, then the read in a statement of its own: one that waited reads what the halt committed.
      await tx.query(`SELECT id FROM runs WHERE id = $1 FOR UPDATE`, [parent.runId]);
      const [p] = await tx.query(`SELECT status, attempt, generation FROM stage_runs WHERE run_id = $1 AND ref_id = $2`, [parent.runId, parent.refId]);
      if (!p || p.status !== 'RUNNING' || p.attempt !== parent.attempt || p.generation !== parent.generation) {
        throw new DomainError('CONFLICT', `stage "${parent.refId}" of run ${parent.runId} no longer runs this attempt (it is ${p?.status ?? 'gone'}): no child run was started`, { field: 'pipelineId' });
      }
      // A child's id follows from its parent's stage attempt: a repeated start finds it.
      const existing = await tx.getRepository(RunEntity).findOneBy({ id });
      if (existing) return existing;
      return insert(tx);
    });
  }

  get(id: string): Promise<RunEntity | null> {
    return isUuid(id) ? this.ds.getRepository(RunEntity).findOneBy({ id }) : Promise.resolve(null);
  }
}
