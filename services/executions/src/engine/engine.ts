import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MessageBus } from '@pipewright/messaging';
import { leaseOwner, messageTable, WorkQueue, type MessageTable } from '@pipewright/persistence';
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
import { enqueueLeased, type EngineMessage, type Payloads } from './messages';
import { RunTx } from './run-tx';

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

  constructor(
    private readonly ds: DataSource,
    children: ChildRuns,
    bus: MessageBus,
    @Inject(EXECUTIONS_CONFIG) private readonly config: Config,
  ) {
    this.io = { ds, bus, startChildRun: (run, stage, pipelineId, parameters) => children.start(run, stage, pipelineId, parameters), runStatus: (id) => children.status(id) };
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

  async onApplicationShutdown() {
    await this.queue?.stop();
  }

  /**
   * For an API call that wants the outcome in its answer: `validate` runs in a transaction (with
   * the run locked, say) and returns the message to send, which is written leased to this process
   * and handled at once after the commit; if the process dies first, a worker handles it when the
   * lease runs out. Nothing but the handler changes the run.
   */
  async submit<K extends MessageKind>(validate: (tx: EntityManager) => Promise<{ kind: K; runId: string; refId: string | null; payload: Payloads[K] } | null>): Promise<void> {
    const msg = await this.ds.transaction(async (tx) => {
      const m = await validate(tx);
      return m && enqueueLeased(tx, this.table.owner, this.config.ENGINE_LEASE_SECONDS, m.kind, m.runId, m.refId, m.payload);
    });
    if (!msg) return;
    // No stage I/O in these (decisions, cancels, restarts, build results): one short transaction, no heartbeat needed.
    await this.handle(msg, new AbortController().signal).catch((err) => this.retryLater(msg, err));
  }

  private async handle(msg: EngineMessage, signal: AbortSignal): Promise<void> {
    if (msg.kind === 'RunStage') {
      const m = msg as EngineMessage<'RunStage'>;
      const outcome = await executeStage(this.io, m, signal);
      // The lease was lost (another worker may hold it now) or the service stops: the attempt is
      // left to whoever takes it over, with the same key, so a receiver can drop the repeat.
      if (signal.aborted) return;
      await this.inTransaction(msg, (t) => applyStageOutcome(t, m, outcome));
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

  /** Applies a message under the run's lock, only while this worker still holds its lease; wakes the queue for the follow-ups it enqueued. */
  private async inTransaction(msg: EngineMessage, fn: (t: RunTx) => Promise<void>) {
    const followUps = await this.ds.transaction(async (tx) => {
      const [held] = await tx.query(`SELECT id FROM engine_messages WHERE id = $1 AND lease_owner = $2 FOR UPDATE`, [msg.id, this.table.owner]);
      if (!held) return []; // the lease expired and another worker took the message over
      const t = await RunTx.open(tx, msg.runId, this.config);
      if (t) await fn(t);
      await tx.query(`DELETE FROM engine_messages WHERE id = $1`, [msg.id]);
      return t?.delays ?? [];
    });
    for (const delay of new Set(followUps)) this.queue?.wake(delay);
  }
}
