import { isSubject, subjects, type DurableSubject } from '@pipewright/contracts';
import { OUTBOX_CHANNEL, OutboxEntity, WakeLoop, type PgListener } from '@pipewright/persistence';
import type { DataSource } from 'typeorm';
import type { BusLogger, MessageBus } from './message-bus';

export interface OutboxRelayOptions {
  /** Rows published per transaction. */
  batchSize?: number;
  /** The backstop sweep, in case a NOTIFY was missed (e.g. while reconnecting). */
  sweepIntervalMs?: number;
  /** Published rows older than this are deleted by the sweep. */
  keepPublishedMs?: number;
}

export interface RelayStats {
  published: number;
  /** Publishes JetStream acknowledged as duplicates of an earlier one (same Nats-Msg-Id). */
  duplicates: number;
  failed: number;
}

/**
 * Moves committed outbox rows to JetStream. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so
 * several replicas share the work; each is published with `Nats-Msg-Id` = row id and marked
 * published in the same transaction that claimed it. A crash after the publish and before the
 * commit republishes the row, and JetStream's duplicate window drops the copy.
 *
 * It runs on the work queue's WakeLoop and PgListener (woken by NOTIFY, LISTEN re-established after
 * a lost connection, a sweep as the backstop), not on WorkQueue itself: a batch is held by its
 * transaction's row locks rather than a lease, published in `seq` order and marked in the same
 * transaction, which a per-item handler with a lease cannot do without losing that order.
 */
export class OutboxRelay {
  readonly stats: RelayStats = { published: 0, duplicates: 0, failed: 0 };
  private loop?: WakeLoop;
  private timer?: NodeJS.Timeout;
  private readonly opts: Required<OutboxRelayOptions>;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
    private readonly log: BusLogger,
    opts: OutboxRelayOptions = {},
  ) {
    this.opts = { batchSize: 100, sweepIntervalMs: 5000, keepPublishedMs: 24 * 3600 * 1000, ...opts };
  }

  async start(): Promise<void> {
    if (this.loop) return;
    const loop: WakeLoop = new WakeLoop({
      name: 'outbox relay',
      sweepMs: this.opts.sweepIntervalMs,
      listen: { connection: this.ds, channels: [OUTBOX_CHANNEL] },
      logger: this.log,
      // Publishes until the outbox is empty; NOTIFYs during a pass coalesce into one more pass.
      pass: async () => {
        while (loop.isRunning && (await this.publishBatch()) === this.opts.batchSize);
      },
    });
    this.loop = loop;
    await loop.start();
    this.timer = setInterval(() => void this.purge(), this.opts.sweepIntervalMs);
  }

  /** Stops after the batch under way (its transaction commits or rolls back). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const loop = this.loop;
    this.loop = undefined;
    await loop?.stop();
  }

  /** The LISTEN connection while running (reconnects, backend pid). */
  get listener(): PgListener | undefined {
    return this.loop?.listener;
  }

  /** Publishes what is committed now (a NOTIFY does the same). */
  kick(): void {
    this.loop?.wake();
  }

  /** Waits for the pass under way and any asked for (tests and shutdown). */
  async idle(): Promise<void> {
    await this.loop?.idle();
  }

  /** Claims and publishes one batch; returns how many rows it handled. */
  async publishBatch(): Promise<number> {
    return this.ds.transaction(async (tx) => {
      const rows: OutboxEntity[] = await tx
        .getRepository(OutboxEntity)
        .createQueryBuilder('o')
        .where('o.published_at IS NULL')
        .orderBy('o.seq', 'ASC')
        .limit(this.opts.batchSize)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      const publishable: OutboxEntity[] = [];
      for (const row of rows) {
        if (!isSubject(row.subject) || !['event', 'command'].includes(subjects[row.subject].kind)) {
          await tx.update(OutboxEntity, { seq: row.seq }, { lastError: `unknown subject ${row.subject}`, attempts: row.attempts + 1, publishedAt: new Date(0) });
          this.stats.failed++;
          this.log.error('outbox row has an unknown subject and was set aside', { id: row.id, subject: row.subject });
          continue;
        }
        publishable.push(row);
      }
      // Sent in order on one connection, acknowledged together: JetStream keeps the order they were
      // sent in. One failure rolls the batch back; its repeat is dropped by Nats-Msg-Id.
      const acks = await Promise.all(publishable.map((row) => this.bus.publish(row.subject as DurableSubject, row.payload as never, { msgId: row.id })));
      for (const ack of acks) {
        if (ack.duplicate) this.stats.duplicates++;
        else this.stats.published++;
      }
      if (publishable.length) {
        await tx.query(`UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE seq = ANY($1::bigint[])`, [publishable.map((r) => r.seq)]);
      }
      return rows.length;
    });
  }

  private async purge(): Promise<void> {
    try {
      await this.ds.query(`DELETE FROM outbox WHERE published_at < now() - ($1 || ' milliseconds')::interval`, [String(this.opts.keepPublishedMs)]);
    } catch (err) {
      this.log.warn('outbox purge failed', { error: (err as Error).message });
    }
  }
}
