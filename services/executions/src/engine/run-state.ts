import { Inject, Injectable } from '@nestjs/common';
import { BUILD_STAGE_TYPES, parseMessage, subjects, TERMINAL_RUN_STATUSES, type PayloadOf, type RunStatus, type StageDocument, type StageStatus } from '@pipewright/contracts';
import { writeOutbox } from '@pipewright/persistence';
import type { EntityManager } from 'typeorm';
import type { Config } from '../config';
import { RunEntity, StageRunEntity, type MessageKind } from '../runs/run.entity';
import { EXECUTIONS_CONFIG } from '../tokens';
import { stageExecutor, executableStageTypes } from '../stages';
import { evaluate, ExpressionError, type ExpressionScope } from './expressions';
import { buildRequestIdOf } from './ids';
import { runOutcome, schedule, type GraphStage } from './graph';

/** Enqueues an engine message in the caller's transaction (NOTIFY wakes the workers on commit). */
export async function enqueue(tx: EntityManager, kind: MessageKind, runId: string, refId: string | null = null, delayMs = 0): Promise<void> {
  await tx.query(`INSERT INTO engine_messages (kind, run_id, ref_id, due_at) VALUES ($1, $2, $3, now() + ($4 || ' milliseconds')::interval)`, [kind, runId, refId, String(Math.max(0, Math.round(delayMs)))]);
}

function getPath(value: unknown, path: string): unknown {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

/**
 * The state transitions of runs and stages. Every method runs inside a transaction that holds the
 * run's row lock, changes state, enqueues follow-ups and writes the events through the outbox.
 */
@Injectable()
export class RunState {
  constructor(@Inject(EXECUTIONS_CONFIG) private readonly config: Config) {}

  /** Outputs over the cap are replaced by a note that says so (the record stays small). */
  capOutputs(outputs: Record<string, unknown> | null): Record<string, unknown> | null {
    if (!outputs) return outputs;
    const size = Buffer.byteLength(JSON.stringify(outputs));
    if (size <= this.config.STAGE_OUTPUTS_MAX_BYTES) return outputs;
    return { outputsTruncated: true, originalBytes: size, note: `the outputs were ${size} bytes, over the ${this.config.STAGE_OUTPUTS_MAX_BYTES}-byte limit (STAGE_OUTPUTS_MAX_BYTES), and were not kept` };
  }

  async lockRun(tx: EntityManager, runId: string): Promise<RunEntity | null> {
    return tx.getRepository(RunEntity).createQueryBuilder('r').where('r.id = :runId', { runId }).setLock('pessimistic_write').getOne();
  }

  stagesOf(tx: EntityManager, runId: string): Promise<StageRunEntity[]> {
    return tx.getRepository(StageRunEntity).find({ where: { runId }, order: { position: 'ASC' } });
  }

  docOf(run: RunEntity, refId: string): StageDocument {
    return run.snapshot.stages.find((s) => s.refId === refId)!;
  }

  /**
   * One event about the run, in one statement: takes the run's next sequence, records the run as it
   * is now under it (run_history: a subscriber is shown each state, not only the newest), and
   * writes the event with that sequence to the outbox. The payload is validated first.
   */
  private async emit<S extends 'evt.executions.run.status-changed.v1' | 'evt.executions.stage.status-changed.v1'>(
    tx: EntityManager,
    run: RunEntity,
    subject: S,
    payload: Omit<PayloadOf<S>, 'sequence'>,
  ): Promise<void> {
    const valid = parseMessage(subject, subjects[subject].payload, { ...payload, sequence: run.sequence + 1 });
    const [{ sequence }] = await tx.query(
      `WITH r AS (UPDATE runs SET sequence = sequence + 1 WHERE id = $1 RETURNING *),
       h AS (INSERT INTO run_history (run_id, sequence, state)
             SELECT r.id, r.sequence, jsonb_build_object(
               'run', to_jsonb(r) - 'snapshot',
               'stages', (SELECT coalesce(jsonb_agg(to_jsonb(s) - 'config' - 'state' || jsonb_build_object('state', jsonb_build_object('prompt', s.state -> 'prompt')) ORDER BY s.position), '[]')
                          FROM stage_runs s WHERE s.run_id = r.id))
             FROM r),
       o AS (INSERT INTO outbox (subject, payload) SELECT $2, $3::jsonb || jsonb_build_object('sequence', r.sequence) FROM r)
       SELECT sequence FROM r`,
      [run.id, subject, JSON.stringify(valid)],
    );
    run.sequence = sequence;
  }

  async emitRun(tx: EntityManager, run: RunEntity): Promise<void> {
    await this.emit(tx, run, 'evt.executions.run.status-changed.v1', { runId: run.id, pipelineId: run.pipelineId, number: run.number, status: run.status, reason: run.reason, at: new Date().toISOString() });
  }

  async emitStage(tx: EntityManager, run: RunEntity, stage: StageRunEntity): Promise<void> {
    await this.emit(tx, run, 'evt.executions.stage.status-changed.v1', {
      runId: run.id,
      pipelineId: run.pipelineId,
      refId: stage.refId,
      status: stage.status,
      attempt: stage.attempt,
      error: stage.error,
      at: new Date().toISOString(),
    });
  }

  async setRunStatus(tx: EntityManager, run: RunEntity, status: RunStatus, reason: string | null = null): Promise<void> {
    if (run.status === status) return;
    run.status = status;
    if (reason !== null) run.reason = reason;
    if (status === 'RUNNING' && !run.startedAt) run.startedAt = new Date();
    if (TERMINAL_RUN_STATUSES.includes(status)) run.finishedAt = new Date();
    await tx.update(RunEntity, { id: run.id }, { status: run.status, reason: run.reason, startedAt: run.startedAt, finishedAt: run.finishedAt });
    await this.emitRun(tx, run);
  }

  async setStage(tx: EntityManager, run: RunEntity, stage: StageRunEntity, changes: Partial<StageRunEntity>): Promise<void> {
    const statusChanged = changes.status !== undefined && changes.status !== stage.status;
    const attemptChanged = changes.attempt !== undefined && changes.attempt !== stage.attempt;
    Object.assign(stage, changes);
    const { runId: _r, refId: _f, ...columns } = stage;
    await tx.update(StageRunEntity, { runId: run.id, refId: stage.refId }, columns as never);
    if (statusChanged || attemptChanged) await this.emitStage(tx, run, stage);
  }

  /** Starts (or skips) every stage that can move, then ends the run when nothing can. */
  async advance(tx: EntityManager, run: RunEntity): Promise<void> {
    if (TERMINAL_RUN_STATUSES.includes(run.status)) return;
    // Read once: every change below goes through setStage, which updates these rows in place.
    const stages = await this.stagesOf(tx, run.id);
    for (let changed = true; changed; ) {
      changed = false;
      const { start, skip } = schedule(this.graph(run, stages));
      for (const refId of skip) {
        await this.setStage(tx, run, stages.find((s) => s.refId === refId)!, { status: 'SKIPPED', finishedAt: new Date(), error: 'skipped: a stage before it did not let it run' });
        changed = true;
      }
      for (const refId of start) {
        // A stage that failed as it started went through finishStage, whose own advance (on fresh
        // rows) has done the rest: this pass, whose rows may now be stale, stops here.
        if (await this.startStage(tx, run, stages.find((s) => s.refId === refId)!, stages)) return;
        changed = true;
      }
    }
    const outcome = runOutcome(this.graph(run, stages));
    if (outcome) {
      const failedStage = stages.find((s) => s.status === 'FAILED');
      await this.setRunStatus(tx, run, outcome, outcome === 'FAILED' && failedStage ? `stage "${failedStage.refId}" failed: ${failedStage.error ?? ''}` : null);
      await this.afterRunEnded(tx, run);
    } else {
      const waitingNow = stages.some((s) => s.status === 'WAITING');
      const busy = stages.some((s) => s.status === 'RUNNING');
      if (waitingNow && !busy && run.status === 'RUNNING') await this.setRunStatus(tx, run, 'WAITING');
      else if ((busy || !waitingNow) && run.status === 'WAITING') await this.setRunStatus(tx, run, 'RUNNING');
    }
  }

  graph(run: RunEntity, stages: StageRunEntity[]): GraphStage[] {
    return stages.map((s) => ({ refId: s.refId, dependsOn: this.docOf(run, s.refId).dependsOn, status: s.status, blocksDownstream: s.skipDownstream }));
  }

  /**
   * Start condition, expressions, then RUNNING with a RunStage message; or a clear failure. True
   * when the stage ended at once through finishStage (which advanced the run itself).
   */
  private async startStage(tx: EntityManager, run: RunEntity, stage: StageRunEntity, stages: StageRunEntity[]): Promise<boolean> {
    const doc = this.docOf(run, stage.refId);
    const start = doc.startCondition as { artifacts: string[]; onMissing: 'SKIP' | 'FAIL' } | undefined;
    const now = new Date();
    if (start) {
      const missing = start.artifacts.filter((a) => !(a in run.artifacts));
      if (missing.length) {
        const reason = `start condition: artifact(s) ${missing.join(', ')} missing`;
        if (start.onMissing === 'SKIP') {
          await this.setStage(tx, run, stage, { status: 'SKIPPED', error: reason, finishedAt: now });
          return false;
        }
        await this.finishStage(tx, run, stage, { status: 'FAILED', error: reason });
        return true;
      }
    }
    if (!stageExecutor(stage.type)) {
      await this.finishStage(tx, run, stage, {
        status: 'FAILED',
        error: `this version of Pipewright cannot run ${stage.type} stages yet (the executions service runs ${executableStageTypes.join(', ')})`,
      });
      return true;
    }
    let config: Record<string, unknown>;
    try {
      config = evaluate(doc.config, this.scope(run, stages), `stages.${stage.refId}.config`) as Record<string, unknown>;
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      await this.finishStage(tx, run, stage, { status: 'FAILED', error: err.message });
      return true;
    }
    const deadlineAt = doc.timeoutSeconds ? new Date(now.getTime() + doc.timeoutSeconds * 1000) : null;
    await this.setStage(tx, run, stage, { status: 'RUNNING', attempt: 1, config, state: {}, startedAt: now, deadlineAt, error: null });
    await enqueue(tx, 'RunStage', run.id, stage.refId);
    return false;
  }

  scope(run: RunEntity, stages: StageRunEntity[]): ExpressionScope {
    return {
      parameters: run.parameters,
      stages: Object.fromEntries(stages.map((s) => [s.refId, { status: s.status, outputs: s.outputs ?? {} }])),
      artifacts: run.artifacts,
      run: { id: run.id, number: run.number },
    };
  }

  /**
   * Ends a stage: applies its failure policy and end condition, then lets the graph move on.
   * FAIL_PIPELINE cancels what runs and skips what has not started; STOP_BRANCH skips what is
   * below it; CONTINUE records FAILED_CONTINUE and carries on.
   */
  async finishStage(
    tx: EntityManager,
    run: RunEntity,
    stage: StageRunEntity,
    result: { status: StageStatus; outputs?: Record<string, unknown> | null; error?: string | null; skipDownstream?: boolean },
  ): Promise<void> {
    const doc = this.docOf(run, stage.refId);
    let { status, error = null, skipDownstream = false } = result;
    const outputs = this.capOutputs(result.outputs ?? stage.outputs ?? null);
    const end = doc.endCondition as { artifacts: { name: string; from: string }[] } | undefined;
    if (status === 'SUCCEEDED' && end) {
      const artifacts = { ...run.artifacts };
      const missing: string[] = [];
      for (const a of end.artifacts) {
        const value = getPath(outputs ?? {}, a.from);
        if (value === undefined) missing.push(`${a.name} (from ${a.from})`);
        else artifacts[a.name] = value;
      }
      if (missing.length) {
        status = 'FAILED';
        error = `end condition: output(s) missing for artifact(s) ${missing.join(', ')}`;
      } else {
        run.artifacts = artifacts;
        await tx.update(RunEntity, { id: run.id }, { artifacts } as never);
      }
    }
    let cancelOthers = false;
    if (status === 'FAILED') {
      if (doc.failurePolicy === 'CONTINUE') status = 'FAILED_CONTINUE';
      else if (doc.failurePolicy === 'STOP_BRANCH') skipDownstream = true;
      else cancelOthers = true;
    }
    if (status === 'STOPPED') cancelOthers = true;
    await this.setStage(tx, run, stage, { status, outputs, error, skipDownstream, finishedAt: new Date() });
    if (cancelOthers) await this.haltOthers(tx, run, stage.refId, status === 'STOPPED' ? 'the run was stopped' : `stage "${stage.refId}" failed`);
    await this.advance(tx, run);
  }

  /** Cancels the stages still running and skips those not started (a failed or stopped run). */
  async haltOthers(tx: EntityManager, run: RunEntity, except: string | null, why: string): Promise<void> {
    for (const s of await this.stagesOf(tx, run.id)) {
      if (s.refId === except) continue;
      if (s.status === 'RUNNING' || s.status === 'WAITING') {
        const note = s.status === 'RUNNING' ? stageExecutor(s.type)?.cancelNote : undefined;
        await this.setStage(tx, run, s, { status: 'CANCELED', error: `canceled: ${why}${note ? `; ${note}` : ''}`, finishedAt: new Date() });
        // A build in flight is told to stop, in the same transaction (its id follows from the attempt).
        if ((BUILD_STAGE_TYPES as readonly string[]).includes(s.type)) await writeOutbox(tx, 'cmd.builds.build.cancel.v1', { buildRequestId: buildRequestIdOf(run.id, s.refId, s.attempt), reason: why });
      }
      else if (s.status === 'NOT_STARTED') await this.setStage(tx, run, s, { status: 'SKIPPED', error: `not run: ${why}`, finishedAt: new Date() });
    }
  }

  /** Lets the next queued run of the pipeline start. */
  async afterRunEnded(tx: EntityManager, run: RunEntity): Promise<void> {
    const [next] = await tx.query(`SELECT id FROM runs WHERE pipeline_id = $1 AND status = 'QUEUED' ORDER BY number LIMIT 1`, [run.pipelineId]);
    if (next) await enqueue(tx, 'StartRun', next.id);
  }
}
