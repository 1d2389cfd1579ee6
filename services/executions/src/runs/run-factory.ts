import { Injectable } from '@nestjs/common';
import { assertProjectAccess } from '@pipewright/auth';
import { isUuid, type Identity, type PipelineSnapshot, type RunStatus } from '@pipewright/contracts';
import { MessageBus, QueryError } from '@pipewright/messaging';
import { DomainError } from '@pipewright/platform';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { childRunIdOf } from '../engine/ids';
import { enqueue } from '../engine/messages';
import { emitRunEvent } from '../engine/run-events';
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
    const id = parent ? childRunIdOf({ runId: parent.runId, refId: parent.refId, attempt: parent.attempt, generation: parent.generation }) : randomUUID();
    return this.ds.transaction(async (tx) => {
      if (parent) {
        // Under the parent's lock: a child is created only while the stage attempt that asks for it
        // still runs, so a halt of the parent (which cancels its children) never misses one.
        const [p] = await tx.query(
          `SELECT s.status, s.attempt, s.generation FROM runs r JOIN stage_runs s ON s.run_id = r.id AND s.ref_id = $2 WHERE r.id = $1 FOR UPDATE OF r`,
          [parent.runId, parent.refId],
        );
        if (!p || p.status !== 'RUNNING' || p.attempt !== parent.attempt || p.generation !== parent.generation) {
          throw new DomainError('CONFLICT', `stage "${parent.refId}" of run ${parent.runId} no longer runs this attempt (it is ${p?.status ?? 'gone'}): no child run was started`, { field: 'pipelineId' });
        }
      }
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
          Object.assign(new StageRunEntity(), { runId: id, refId: s.refId, position, name: s.name, type: s.type, status: 'NOT_STARTED', attempt: 0, generation: 0, config: null, state: {}, outputs: null, error: null, decision: null, skipDownstream: false, startedAt: null, finishedAt: null, deadlineAt: null, restartedBy: null, restartedAt: null }),
        ),
      );
      await emitRunEvent(tx, run);
      await enqueue(tx, 'StartRun', id, null, {});
      return run;
    });
  }

  get(id: string): Promise<RunEntity | null> {
    return isUuid(id) ? this.ds.getRepository(RunEntity).findOneBy({ id }) : Promise.resolve(null);
  }
}
