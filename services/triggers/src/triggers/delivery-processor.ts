import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { PayloadOf } from '@pipewright/contracts';
import { MessageBus, QueryError, type Consumer } from '@pipewright/messaging';
import { leaseOwner, messageTable, WorkQueue, writeOutbox, type MessageTable } from '@pipewright/persistence';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TRIGGERS_CONFIG, type Config } from '../config';
import { interpret, type Interpretation } from './events';
import type { ImagePushConfig } from './trigger-config';
import { DeliveryEntity, TriggerEntity } from './trigger.entity';

interface QueuedDelivery {
  id: string;
  deliveryId: string;
  attempts: number;
}

/** After this many failed attempts (the registry or a service away), a delivery is REJECTED with the last error. */
const MAX_ATTEMPTS = 8;

/** The host[:port] an image registry URL names (`http://127.0.0.1:5000/` -> `127.0.0.1:5000`). */
export function registryHostOf(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

/**
 * Processes stored deliveries (the `delivery_queue`, shared by every instance under a lease): what
 * the event means for its trigger, and for a run to start, the executions service's command in
 * the outbox, in the transaction that records the outcome. So a delivery is processed once, and
 * a crash at any point loses nothing: an unprocessed delivery stays queued, a processed one has
 * its command in the outbox (and the run's id, which executions makes once).
 */
@Injectable()
export class DeliveryProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Deliveries');
  private readonly table: MessageTable<QueuedDelivery>;
  private queue?: WorkQueue<QueuedDelivery>;
  private refused?: Consumer;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
    @Inject(TRIGGERS_CONFIG) private readonly config: Config,
  ) {
    this.table = messageTable<QueuedDelivery>(ds, {
      table: 'delivery_queue',
      owner: leaseOwner('triggers'),
      leaseMs: config.TRIGGER_LEASE_SECONDS * 1000,
      columns: `m.delivery_id AS "deliveryId", m.attempts`,
    });
  }

  async onApplicationBootstrap() {
    this.queue = new WorkQueue<QueuedDelivery>({
      name: 'deliveries',
      connection: this.ds,
      channel: 'pw_triggers',
      concurrency: this.config.TRIGGER_WORKERS,
      sweepMs: this.config.TRIGGER_SWEEP_MS,
      leaseMs: this.table.leaseMs,
      claim: this.table.claim,
      renew: this.table.renew,
      handle: (item) => this.process(item),
      onError: async (item, err) => {
        this.log.warn({ message: 'a delivery could not be processed; it is retried', deliveryId: item.deliveryId, attempt: item.attempts, error: (err as Error).message });
        await this.table.retryLater(item.id, Math.min(60_000, 500 * 2 ** item.attempts), err);
      },
      logger: { warn: (message, fields) => this.log.warn({ message, ...fields }), error: (message, fields) => this.log.error({ message, ...fields }) },
    });
    await this.queue.start();
    // A run the executions service would not make (the pipeline gone, a parameter refused): the delivery says why.
    this.refused = await this.bus.consume(['evt.executions.run.start-refused.v1'], { durable: 'triggers-run-refused' }, (e) => this.runRefused(e));
  }

  async onApplicationShutdown() {
    await this.refused?.stop();
    await this.queue?.stop({ graceMs: 5000 });
  }

  private async runRefused(e: PayloadOf<'evt.executions.run.start-refused.v1'>): Promise<void> {
    await this.ds.query(`UPDATE trigger_deliveries SET status = 'REJECTED', reason = $3 WHERE id = $1 AND run_id = $2`, [e.deliveryId, e.runId, `the run was not started: ${e.reason}`]);
  }

  /** The I/O a delivery needs before it is decided (outside the transaction): an image registry's host. */
  private async context(trigger: TriggerEntity): Promise<{ registryHost?: string }> {
    if (trigger.type !== 'IMAGE_PUSH') return {};
    const registryId = (trigger.config as ImagePushConfig).registryId;
    try {
      const registry = await this.bus.request('rpc.environments.image-registry.resolve', { id: registryId, projectId: trigger.projectId }, { timeoutMs: 5000 });
      return { registryHost: registryHostOf(registry.url) };
    } catch (err) {
      if (err instanceof QueryError && (err.code === 'NOT_FOUND' || err.code === 'BAD_REQUEST')) throw new RefusedDelivery(`image registry ${registryId} cannot be used: ${err.message}; fix the trigger's config.registryId`);
      throw err;
    }
  }

  private async process(item: QueuedDelivery): Promise<void> {
    const delivery = await this.ds.getRepository(DeliveryEntity).findOneBy({ id: item.deliveryId });
    const trigger = delivery && (await this.ds.getRepository(TriggerEntity).findOneBy({ id: delivery.triggerId }));
    let decided: Interpretation;
    if (!delivery || !trigger) decided = { start: false, outcome: 'IGNORED', reason: 'the trigger was deleted' };
    else if (!trigger.enabled) decided = { start: false, outcome: 'IGNORED', reason: 'the trigger is disabled' };
    else {
      try {
        decided = interpret(trigger, { event: delivery.event, payload: delivery.payload }, await this.context(trigger));
      } catch (err) {
        if (!(err instanceof RefusedDelivery) && item.attempts < MAX_ATTEMPTS) throw err;
        decided = { start: false, outcome: 'REJECTED', reason: (err as Error).message };
      }
    }
    await this.ds.transaction(async (tx) => {
      const held = await tx.query(`SELECT 1 FROM delivery_queue WHERE id = $1 AND lease_owner = $2 FOR UPDATE`, [item.id, this.table.owner]);
      if (!held.length) return; // another instance took it over
      const [row]: { status: string }[] = await tx.query(`SELECT status FROM trigger_deliveries WHERE id = $1 FOR UPDATE`, [item.deliveryId]);
      if (row?.status === 'PENDING' && delivery && trigger) {
        if (decided.start) {
          const runId = randomUUID();
          await writeOutbox(tx, 'cmd.executions.run.start.v1', {
            runId,
            pipelineId: trigger.pipelineId,
            projectId: trigger.projectId,
            parameters: decided.parameters,
            artifacts: decided.artifacts,
            trigger: { type: trigger.type, triggerId: trigger.id, deliveryId: delivery.id, summary: decided.summary },
            by: trigger.createdBy,
            at: new Date().toISOString(),
          });
          await tx.query(`UPDATE trigger_deliveries SET status = 'STARTED', run_id = $2, summary = $3, processed_at = now() WHERE id = $1`, [delivery.id, runId, decided.summary]);
        } else {
          await tx.query(`UPDATE trigger_deliveries SET status = $2, reason = $3, processed_at = now() WHERE id = $1`, [delivery.id, decided.outcome, decided.reason.slice(0, 2000)]);
        }
      }
      await tx.query(`DELETE FROM delivery_queue WHERE id = $1`, [item.id]);
    });
  }
}

/** A delivery that cannot succeed however often it is tried. */
class RefusedDelivery extends Error {}
