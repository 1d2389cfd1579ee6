import { TERMINAL_RUN_STATUSES, type RunStatus, type StageDocument } from '@pipewright/contracts';
import type { EntityManager } from 'typeorm';
import type { Config } from '../config';
import { RunEntity, StageRunEntity, type MessageKind } from '../runs/run.entity';
import { enqueue, type Payloads } from './messages';
import { emitRunEvent, emitStageEvent } from './run-events';

/**
 * One handler's transaction on one run: the run's row lock, its stages read once (every change
 * goes through setStage, which updates these same rows in place), and the writes that report each
 * change as an event.
 */
export class RunTx {
  private rows?: StageRunEntity[];
  /** The delays of the messages this transaction enqueued: the engine wakes its queue for each after the commit. */
  readonly delays: number[] = [];

  private constructor(
    readonly tx: EntityManager,
    readonly run: RunEntity,
    readonly config: Config,
  ) {}

  /** Locks the run (FOR UPDATE): handlers of one run never interleave. Null when it is gone. */
  static async open(tx: EntityManager, runId: string, config: Config): Promise<RunTx | null> {
    const run = await tx.getRepository(RunEntity).createQueryBuilder('r').where('r.id = :runId', { runId }).setLock('pessimistic_write').getOne();
    return run ? new RunTx(tx, run, config) : null;
  }

  get ended(): boolean {
    return TERMINAL_RUN_STATUSES.includes(this.run.status);
  }

  doc(refId: string): StageDocument {
    return this.run.snapshot.stages.find((s) => s.refId === refId)!;
  }

  async stages(): Promise<StageRunEntity[]> {
    this.rows ??= await this.tx.getRepository(StageRunEntity).find({ where: { runId: this.run.id }, order: { position: 'ASC' } });
    return this.rows;
  }

  async stage(refId: string): Promise<StageRunEntity | undefined> {
    return (await this.stages()).find((s) => s.refId === refId);
  }

  async setRunStatus(status: RunStatus, reason: string | null = null): Promise<void> {
    const run = this.run;
    if (run.status === status) return;
    run.status = status;
    if (reason !== null) run.reason = reason;
    if (status === 'RUNNING' && !run.startedAt) run.startedAt = new Date();
    if (TERMINAL_RUN_STATUSES.includes(status)) run.finishedAt = new Date();
    await this.tx.update(RunEntity, { id: run.id }, { status: run.status, reason: run.reason, startedAt: run.startedAt, finishedAt: run.finishedAt });
    await emitRunEvent(this.tx, run);
  }

  /** Changes a stage's row; a change of status or attempt is an event. */
  async setStage(stage: StageRunEntity, changes: Partial<StageRunEntity>): Promise<void> {
    const statusChanged = changes.status !== undefined && changes.status !== stage.status;
    const attemptChanged = changes.attempt !== undefined && changes.attempt !== stage.attempt;
    Object.assign(stage, changes);
    const { runId: _r, refId: _f, ...columns } = stage;
    await this.tx.update(StageRunEntity, { runId: this.run.id, refId: stage.refId }, columns as never);
    if (statusChanged || attemptChanged) await emitStageEvent(this.tx, this.run, stage);
  }

  enqueue<K extends MessageKind>(kind: K, refId: string | null, payload: Payloads[K], delayMs = 0): Promise<void> {
    // Immediate ones are announced by NOTIFY; a delayed one would otherwise wait for the sweep.
    if (delayMs > 0) this.delays.push(Math.round(delayMs));
    return enqueue(this.tx, kind, this.run.id, refId, payload, delayMs);
  }
}
