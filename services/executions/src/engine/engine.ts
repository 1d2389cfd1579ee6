import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MessageBus } from '@pipewright/messaging';
import { leaseOwner, messageTable, preparedQuery, QueueStoppingError, WorkQueue, type MessageTable } from '@pipewright/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import type { Config } from '../config';
import type { MessageKind } from '../runs/run.entity';
import { EXECUTIONS_CONFIG } from '../tokens';
import { ChildRuns } from './child-runs';
import { handleCancelRun } from './handlers/cancel-run.handler';
import { handleCompleteStage } from './handlers/complete-stage.handler';
import { handleRestartStage } from './handlers/restart-stage.handler';
import { applyStageOutcome, executeStage, type StageIo } from './handlers/run-stage.handler';
import { handleStartRun } from './handlers/start-run.handler';
import { handleStartWaitingRuns } from './handlers/start-waiting-runs.handler';
import type { EngineMessage, Payloads } from './messages';
import { cloneState, loadRun, RunTx, type LeasedMessage, type LocalLease, type RunState } from './run-tx';

/** Each message kind's handler, applied in the run's transaction (RunStage's I/O comes first, outside it). */
const handlers: { [K in Exclude<MessageKind, 'RunStage'>]: (t: RunTx, msg: EngineMessage<K>) => Promise<void> } = {
  StartRun: handleStartRun,
  CompleteStage: handleCompleteStage,
  CancelRun: handleCancelRun,
  RestartStage: handleRestartStage,
  StartWaitingRuns: handleStartWaitingRuns,
};

/**
 * The durable queue: messages in `engine_messages`, on the shared WorkQueue (claimed in batches
 * with SKIP LOCKED under a lease, woken by LISTEN/NOTIFY, re-established after a lost connection,
 * with a slow sweep as the backstop). Every change of a run's state is one of these messages and
 * its handler (engine/handlers/). A stage's I/O (RunStage) runs between the claim and the
 * transaction that applies its outcome; the queue keeps its lease alive meanwhile and aborts the
 * I/O when the lease cannot be kept, so no second worker starts an attempt that is still in flight.
 * A worker that dies leaves its leases to run out.
 */
@Injectable()
export class Engine implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Engine');
  private readonly io: StageIo;
  private readonly table: MessageTable<EngineMessage>;
  private queue?: WorkQueue<EngineMessage>;
  /** The run as the transaction that leased a message to this process left it (see afterCommit). */
  private readonly preloaded = new Map<string, RunState>();

  constructor(
    private readonly ds: DataSource,
    children: ChildRuns,
    bus: MessageBus,
    @Inject(EXECUTIONS_CONFIG) private readonly config: Config,
  ) {
    this.io = { ds, bus, preloaded: (id) => this.preloaded.get(id), startChildRun: (run, stage, pipelineId, parameters) => children.start(run, stage, pipelineId, parameters), runStatus: (id) => children.status(id), outbound: config.OUTBOUND_ALLOW };
    this.table = messageTable<EngineMessage>(ds, {
      table: 'engine_messages',
      owner: leaseOwner('executions'),
      leaseMs: config.ENGINE_LEASE_SECONDS * 1000,
      columns: `m.kind, m.run_id AS "runId", m.ref_id AS "refId", m.payload, m.attempts`,
    });
  }

  async onApplicationBootstrap() {
    if (!this.config.ENGINE_WORKERS) return; // an API-only instance: submit() still handles its own messages
    this.queue = new WorkQueue<EngineMessage>({
      name: 'engine',
      connection: this.ds,
      channel: 'pw_engine',
      concurrency: this.config.ENGINE_WORKERS,
      batchSize: Math.min(32, this.config.ENGINE_WORKERS),
      sweepMs: this.config.ENGINE_SWEEP_MS,
      leaseMs: this.table.leaseMs,
      claim: this.table.claim,
      renew: this.table.renew,
      handle: (msg, lease) => this.handle(msg, lease.signal),
      onError: (msg, err) => this.retryLater(msg, err),
      logger: { warn: (message, fields) => this.log.warn({ message, ...fields }), error: (message, fields) => this.log.error({ message, ...fields }) },
    });
    await this.queue.start();
  }

  private stopping = false;

  async onApplicationShutdown() {
    this.stopping = true;
    // Stage calls under way get a moment to finish; those cut are given back at once (see handle).
    await this.queue?.stop({ graceMs: 5000 });
  }

  /**
   * A message from an API call or a build event, handled in the transaction that checked it:
   * `validate` locks what it reads (the run) and returns the message, or null for nothing to do;
   * its handler applies it before the commit, so the check still holds when it is applied (two
   * decisions at once: the second is refused), and the caller's answer shows the outcome. These
   * do no I/O, so they need no queue row or lease: the transaction is their durability.
   */
  async submit<K extends Exclude<MessageKind, 'RunStage'>>(validate: (tx: EntityManager) => Promise<{ kind: K; runId: string; refId: string | null; payload: Payloads[K] } | null>): Promise<void> {
    const leasedAt = Date.now(); // no later than the transaction's now(), from which the database counts a lease
    const after = await this.ds.transaction(async (tx) => {
      const m = await validate(tx);
      if (!m) return null;
      const t = await RunTx.open(tx, m.runId, this.config, { local: this.localLease() });
      if (!t) return null;
      const handler = handlers[m.kind] as (t: RunTx, msg: EngineMessage) => Promise<void>;
      await handler(t, { id: 'submitted', attempts: 1, ...m });
      return { t, leased: await t.flush() };
    });
    if (after) this.afterCommit(after.t, after.leased, leasedAt);
  }

  private async handle(msg: EngineMessage, signal: AbortSignal): Promise<void> {
    if (msg.kind === 'RunStage') {
      const m = msg as EngineMessage<'RunStage'>;
      const { state, executed } = await executeStage(this.io, m, signal);
      // A lease lost or a stop meanwhile: applyUnlocked writes nothing and leaves the attempt (same
      // key, so a receiver can drop the repeat) to whoever takes the message over.
      await this.applyUnlocked(m, state, signal, (t) => applyStageOutcome(t, m, executed));
    } else if (msg.kind === 'StartRun') {
      // Without a concurrency limit a start reads no other run: it is written like a stage step.
      // With one, the pipeline's runs are counted under its lock.
      const m = msg as EngineMessage<'StartRun'>;
      const state = await loadRun(this.ds, m.runId);
      if (state && !state.run.snapshot.maxConcurrentRuns) await this.applyUnlocked(m, state, signal, (t) => handleStartRun(t, m));
      else await this.inTransaction(m, (t) => handleStartRun(t, m));
    } else {
      const handler = handlers[msg.kind] as (t: RunTx, m: EngineMessage) => Promise<void>;
      await this.inTransaction(msg, (t) => handler(t, msg));
    }
  }

  private async retryLater(msg: EngineMessage, err: unknown): Promise<void> {
    const delay = Math.min(30_000, 250 * 2 ** Math.min(msg.attempts, 7));
    this.log.error({ message: `${msg.kind} for run ${msg.runId} failed; retrying in ${delay} ms`, error: (err as Error).message, attempts: msg.attempts });
    const released = await this.table.retryLater(msg.id, delay, err).catch((e: Error) => {
      this.log.error({ message: `cannot release message ${msg.id} (the database is away?); it is claimed again when its lease runs out`, error: e.message });
      return false;
    });
    // Either way, claim again when it falls due: not only at the next sweep.
    this.queue?.wake(released ? delay : this.table.leaseMs + 100);
  }

  /**
   * A stage step's outcome (or an unlimited run's start) applied to the run as the step read it,
   * with no transaction and no lock: the handler decides in memory and flushChecked() writes it all in one statement only if
   * the run is unchanged and the message still leased to this process. A run changed meanwhile (a
   * sibling stage's step, a decision, a cancel) is read again and the outcome decided again; one
   * that keeps changing falls back to the locked path.
   */
  private async applyUnlocked(msg: EngineMessage, read: RunState | null, signal: AbortSignal, apply: (t: RunTx) => Promise<void>): Promise<void> {
    let state = read;
    for (let reads = 0; reads < 3; reads++) {
      if (signal.aborted) {
        // The lease is gone: the message is whoever's claims it next. On a stop it is given back at
        // once rather than when its lease runs out.
        if (signal.reason instanceof QueueStoppingError) await this.table.retryLater(msg.id, 0, signal.reason).catch(() => undefined);
        return;
      }
      state ??= await loadRun(this.ds, msg.runId);
      if (!state) break; // the run is gone: the locked path drops the message
      const leasedAt = Date.now(); // no later than the statement's now(), from which the database counts a lease
      const t = RunTx.unlocked(this.ds.manager, state, this.config, this.localLease());
      await apply(t);
      const written = await t.flushChecked(msg.id, this.table.owner);
      if (written.outcome === 'applied') return this.afterCommit(t, written.leased, leasedAt);
      if (written.outcome === 'lost') return; // another worker holds the message now
      state = null;
    }
    await this.inTransaction(msg, apply);
  }

  /** Applies a message under the run's lock, only while this worker still holds its lease; wakes the queue for the follow-ups it enqueued. */
  private async inTransaction(msg: EngineMessage, fn: (t: RunTx) => Promise<void>) {
    const leasedAt = Date.now(); // no later than the transaction's now(), from which the database counts a lease
    const after = await this.ds.transaction(async (tx) => {
      // Taking the message off the queue is the check that this worker still holds it (a rollback
      // puts it back), in the statement that locks its run.
      const held = await preparedQuery<{ id: string }>(
        tx,
        `WITH m AS (DELETE FROM engine_messages WHERE id = $1 AND lease_owner = $2 RETURNING run_id) SELECT r.id FROM runs r JOIN m ON r.id = m.run_id FOR UPDATE OF r`,
        [msg.id, this.table.owner],
      );
      if (!held.length) return null; // the lease expired and another worker took the message over (or the run is gone)
      const t = await RunTx.open(tx, msg.runId, this.config, { locked: true, local: this.localLease() });
      if (!t) return null;
      await fn(t);
      return { t, leased: await t.flush() };
    });
    if (after) this.afterCommit(after.t, after.leased, leasedAt);
  }

  /** The queue's free slots, for stage steps a transaction starts to be run here at once. */
  private localLease(): LocalLease | undefined {
    const q = this.queue;
    if (!q || this.stopping) return undefined;
    return { owner: this.table.owner, leaseMs: this.table.leaseMs, slots: Math.max(0, this.config.ENGINE_WORKERS - q.busy) };
  }

  /**
   * After a commit: wakes the queue for the delayed follow-ups, and runs the stage steps leased to
   * this process with the run as the transaction left it (no claim, no read; the step's write
   * checks the run's version). If this process dies first, their leases run out.
   */
  private afterCommit(t: RunTx, leased: LeasedMessage[], leasedAt: number): void {
    for (const delay of new Set(t.delays)) this.queue?.wake(delay);
    // Each step changes the state it is given (its outcome is decided on it): siblings get copies.
    for (const [i, msg] of leased.entries()) this.preloaded.set(msg.id, i === 0 ? t.state : cloneState(t.state));
    for (const msg of leased) {
      try {
        void this.queue!.handleNow(msg as EngineMessage, { leasedAt }).finally(() => this.preloaded.delete(msg.id));
      } catch (err) {
        // The queue is stopping: the step is given back for another worker to claim at once.
        this.preloaded.delete(msg.id);
        this.log.warn({ message: `stage step ${msg.id} is left to another worker`, error: (err as Error).message });
        void this.table.retryLater(msg.id, 0, err).catch(() => undefined);
      }
    }
  }
}
