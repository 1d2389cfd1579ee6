import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TERMINAL_RUN_STATUSES } from '@pipewright/contracts';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { PoolClient } from 'pg';
import { MessageBus } from '@pipewright/messaging';
import { DataSource, type EntityManager } from 'typeorm';
import type { Config } from '../config';
import { EXECUTIONS_CONFIG } from '../tokens';
import { EngineMessageEntity, RunEntity, StageRunEntity } from '../runs/run.entity';
import { stageExecutor } from '../stages';
import { failed, type StageContext, type StageOutcome } from '../stages/stage-type';
import { ChildRuns } from './child-runs';
import { enqueue, RunState } from './run-state';

/**
 * The durable queue: messages in `engine_messages`, claimed with SKIP LOCKED under a lease, woken
 * by LISTEN/NOTIFY with a slow sweep as the backstop. Stage I/O (RunStage) happens between the
 * claim and the transaction that applies its outcome; a worker that dies leaves its lease to
 * expire and another takes the message over.
 */
@Injectable()
export class Engine implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Engine');
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private running = false;
  private listener?: PoolClient;
  private wakers: (() => void)[] = [];
  private loops: Promise<void>[] = [];
  private sweep?: NodeJS.Timeout;

  constructor(
    private readonly ds: DataSource,
    private readonly state: RunState,
    private readonly children: ChildRuns,
    private readonly bus: MessageBus,
    @Inject(EXECUTIONS_CONFIG) private readonly config: Config,
  ) {}

  async onApplicationBootstrap() {
    if (!this.config.ENGINE_WORKERS) return;
    this.running = true;
    const driver = this.ds.driver as unknown as { master: { connect(): Promise<PoolClient> } };
    this.listener = await driver.master.connect();
    this.listener.on('notification', () => this.wakeAll());
    await this.listener.query('LISTEN pw_engine');
    this.sweep = setInterval(() => this.wakeAll(), this.config.ENGINE_SWEEP_MS);
    for (let i = 0; i < this.config.ENGINE_WORKERS; i++) this.loops.push(this.loop(i));
  }

  async onApplicationShutdown() {
    this.running = false;
    if (this.sweep) clearInterval(this.sweep);
    this.wakeAll();
    await Promise.all(this.loops);
    if (this.listener) {
      await this.listener.query('UNLISTEN pw_engine').catch(() => undefined);
      this.listener.release();
    }
  }

  private wakeAll() {
    const w = this.wakers;
    this.wakers = [];
    w.forEach((f) => f());
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakers.push(done);
    });
  }

  private async loop(index: number) {
    while (this.running) {
      try {
        const msg = await this.claim();
        if (!msg) {
          await this.sleep(this.config.ENGINE_SWEEP_MS);
          continue;
        }
        await this.process(msg);
      } catch (err) {
        this.log.error({ message: `engine worker ${index} failed; continuing`, error: (err as Error).message });
        await this.sleep(500);
      }
    }
  }

  private async claim(): Promise<EngineMessageEntity | null> {
    // TypeORM answers an UPDATE ... RETURNING with [rows, affected].
    const [rows]: [Record<string, unknown>[], number] = await this.ds.query(
      `UPDATE engine_messages SET lease_until = now() + ($2 || ' seconds')::interval, lease_owner = $1, attempts = attempts + 1
       WHERE id = (SELECT id FROM engine_messages WHERE due_at <= now() AND (lease_until IS NULL OR lease_until < now())
                   ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id::text, kind, run_id, ref_id, attempts`,
      [this.owner, String(this.config.ENGINE_LEASE_SECONDS)],
    );
    const r = rows[0];
    if (!r) return null;
    return Object.assign(new EngineMessageEntity(), { id: r.id, kind: r.kind, runId: r.run_id, refId: r.ref_id, attempts: r.attempts });
  }

  private async process(msg: EngineMessageEntity) {
    try {
      if (msg.kind === 'RunStage') {
        const outcome = await this.executeStage(msg);
        await this.inTransaction(msg, (tx, run) => (outcome ? this.applyOutcome(tx, run, msg, outcome) : Promise.resolve()));
      } else {
        await this.inTransaction(msg, (tx, run) => this.startRun(tx, run));
      }
    } catch (err) {
      const delay = Math.min(30_000, 250 * 2 ** Math.min(msg.attempts, 7));
      this.log.error({ message: `${msg.kind} for run ${msg.runId} failed; retrying in ${delay} ms`, error: (err as Error).message, attempts: msg.attempts });
      await this.ds.query(`UPDATE engine_messages SET lease_until = NULL, lease_owner = NULL, due_at = now() + ($2 || ' milliseconds')::interval, last_error = $3 WHERE id = $1 AND lease_owner = $4`, [
        msg.id,
        String(delay),
        (err as Error).message.slice(0, 2000),
        this.owner,
      ]);
    }
  }

  /** Applies a message under the run's lock, only while this worker still holds its lease. */
  private async inTransaction(msg: EngineMessageEntity, fn: (tx: EntityManager, run: RunEntity) => Promise<void>) {
    await this.ds.transaction(async (tx) => {
      const [held] = await tx.query(`SELECT id FROM engine_messages WHERE id = $1 AND lease_owner = $2 FOR UPDATE`, [msg.id, this.owner]);
      if (!held) return; // the lease expired and another worker took the message over
      const run = await this.state.lockRun(tx, msg.runId);
      if (run) await fn(tx, run);
      await tx.query(`DELETE FROM engine_messages WHERE id = $1`, [msg.id]);
    });
  }

  /** QUEUED → RUNNING when the pipeline's concurrency allows it and it is the oldest queued run. */
  private async startRun(tx: EntityManager, run: RunEntity): Promise<void> {
    if (run.status !== 'QUEUED') return;
    const max = run.snapshot.maxConcurrentRuns;
    if (max) {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [run.pipelineId]);
      const [{ active }] = await tx.query(`SELECT count(*)::int AS active FROM runs WHERE pipeline_id = $1 AND status IN ('RUNNING', 'WAITING')`, [run.pipelineId]);
      const [oldest] = await tx.query(`SELECT id FROM runs WHERE pipeline_id = $1 AND status = 'QUEUED' ORDER BY number LIMIT 1`, [run.pipelineId]);
      if (active >= max || oldest?.id !== run.id) return; // it starts when a running one ends
    }
    await this.state.setRunStatus(tx, run, 'RUNNING');
    await this.state.advance(tx, run);
  }

  /** The stage's I/O, outside any transaction. Null when there is nothing to do any more. */
  private async executeStage(msg: EngineMessageEntity): Promise<StageOutcome | null> {
    const run = await this.ds.getRepository(RunEntity).findOneBy({ id: msg.runId });
    const stages = await this.ds.getRepository(StageRunEntity).findBy({ runId: msg.runId });
    const stage = stages.find((s) => s.refId === msg.refId);
    if (!run || !stage || stage.status !== 'RUNNING' || TERMINAL_RUN_STATUSES.includes(run.status)) return null;
    if (stage.deadlineAt && stage.deadlineAt.getTime() <= Date.now()) {
      return failed(`timed out after ${this.state.docOf(run, stage.refId).timeoutSeconds} s`, false);
    }
    const executor = stageExecutor(stage.type)!;
    const ctx: StageContext = {
      run,
      stage,
      config: stage.config ?? {},
      timeLeftMs: stage.deadlineAt ? Math.max(0, stage.deadlineAt.getTime() - Date.now()) : Infinity,
      stages: new Map(stages.map((s) => [s.refId, s])),
      startChildRun: (pipelineId, parameters) => this.children.start(run, stage, pipelineId, parameters),
      runStatus: (runId) => this.children.status(runId),
      request: this.bus.request.bind(this.bus),
      startBuild: async (command) => {
        await this.bus.publish('cmd.builds.build.start.v1', command, { msgId: command.buildRequestId });
      },
    };
    let outcome: StageOutcome;
    try {
      outcome = stage.state.__started && executor.poll ? await executor.poll(ctx) : await executor.start(ctx);
    } catch (err) {
      outcome = failed(`${stage.type} failed: ${(err as Error).message}`, true);
    }
    // The stage's own timeout wins over whatever the attempt ran into.
    if (outcome.kind === 'failed' && stage.deadlineAt && stage.deadlineAt.getTime() <= Date.now()) {
      return failed(`timed out after ${this.state.docOf(run, stage.refId).timeoutSeconds} s (${outcome.reason})`, false);
    }
    return outcome;
  }

  private async applyOutcome(tx: EntityManager, run: RunEntity, msg: EngineMessageEntity, outcome: StageOutcome): Promise<void> {
    const stage = await tx.getRepository(StageRunEntity).findOneBy({ runId: run.id, refId: msg.refId! });
    if (!stage || stage.status !== 'RUNNING' || TERMINAL_RUN_STATUSES.includes(run.status)) return;
    const doc = this.state.docOf(run, stage.refId);
    switch (outcome.kind) {
      case 'running': {
        await this.state.setStage(tx, run, stage, { state: { ...outcome.state, __started: true } });
        const untilDeadline = stage.deadlineAt ? stage.deadlineAt.getTime() - Date.now() : Infinity;
        return enqueue(tx, 'RunStage', run.id, stage.refId, Math.max(0, Math.min(outcome.retryAfterMs, untilDeadline)));
      }
      case 'waiting':
        await this.state.setStage(tx, run, stage, { status: 'WAITING', state: { ...stage.state, __started: true, prompt: outcome.prompt } });
        return this.state.advance(tx, run);
      case 'succeeded':
        return this.state.finishStage(tx, run, stage, { status: 'SUCCEEDED', outputs: outcome.outputs, skipDownstream: outcome.skipDownstream });
      case 'failed': {
        const retry = doc.retry ?? stageExecutor(stage.type)?.defaultRetry;
        if (outcome.retryable && retry && stage.attempt < retry.maxAttempts) {
          const backoffMs = retry.backoffSeconds * 1000 * 2 ** (stage.attempt - 1);
          await this.state.setStage(tx, run, stage, { attempt: stage.attempt + 1, state: {}, error: `attempt ${stage.attempt} failed: ${outcome.reason}`, outputs: outcome.outputs ?? null });
          return enqueue(tx, 'RunStage', run.id, stage.refId, backoffMs);
        }
        const tries = stage.attempt > 1 ? ` (after ${stage.attempt} attempts)` : '';
        return this.state.finishStage(tx, run, stage, { status: 'FAILED', error: `${outcome.reason}${tries}`, outputs: outcome.outputs ?? null });
      }
    }
  }
}
