import { isSubject, subjects, type DurableSubject } from '@pipewright/contracts';
import { OUTBOX_CHANNEL, preparedQuery, rowsOf, WakeLoop, type PgListener } from '@pipewright/persistence';
import type { DataSource } from 'typeorm';
import type { BusLogger, MessageBus } from './message-bus';

/** How long a relay holds the rows it is publishing; one that dies leaves them to be claimed again after it. */
const CLAIM_MS = 10_000;

export interface OutboxRelayOptions {
  /** Rows published per batch. */
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
 * Moves committed outbox rows to JetStream. A batch is claimed in one statement (`FOR UPDATE SKIP
 * LOCKED`, then held by `claimed_until`), so several replicas share the work; each row is
 * published with `Nats-Msg-Id` = row id, in `seq` order, and marked published in a second
 * statement. A crash after the publish and before the mark republishes the row once the claim runs
 * out, and JetStream's duplicate window drops the copy.
 *
 * It runs on the work queue's WakeLoop and PgListener (woken by NOTIFY, LISTEN re-established after
 * a lost connection, a sweep as the backstop), not on WorkQueue itself: a batch is claimed, sent
 * in order and marked as one, which per-item handlers running side by side would not keep.
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

  /**
   * Claims and publishes one batch; returns how many rows it handled. The claim is one statement
   * (rows held for CLAIM_MS, oldest first, skipping those another relay holds); the rows are sent in
   * order and marked published in a second. A failed publish gives the batch back at once; a relay
   * that dies leaves its claim to run out, and the repeat is dropped by Nats-Msg-Id.
   */
  async publishBatch(): Promise<number> {
    const claimed = rowsOf<{ seq: string; id: string; subject: string; payload: unknown }>(
      await preparedQuery(
        this.ds,
        `UPDATE outbox o SET claimed_until = now() + $2::float8 * interval '1 millisecond', attempts = o.attempts + 1
         FROM (SELECT seq FROM outbox WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
                 -- never past a batch another relay holds (or a dead one held): the outbox's order is kept
                 AND seq < coalesce((SELECT min(seq) FROM outbox WHERE published_at IS NULL AND claimed_until >= now()), 9223372036854775807)
               ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED) c
         WHERE o.seq = c.seq RETURNING o.seq::text AS seq, o.id::text AS id, o.subject, o.payload`,
        [this.opts.batchSize, CLAIM_MS],
      ),
    );
    if (!claimed.length) return 0;
    const rows = claimed.sort((x, y) => (BigInt(x.seq) < BigInt(y.seq) ? -1 : 1));
    const publishable = rows.filter((row) => isSubject(row.subject) && ['event', 'command'].includes(subjects[row.subject].kind));
    const unknown = rows.filter((row) => !publishable.includes(row));
    if (unknown.length) {
      await this.ds.query(`UPDATE outbox SET last_error = 'unknown subject ' || subject, published_at = 'epoch', claimed_until = NULL WHERE seq = ANY($1::bigint[])`, [unknown.map((r) => r.seq)]);
      this.stats.failed += unknown.length;
      for (const row of unknown) this.log.error('outbox row has an unknown subject and was set aside', { id: row.id, subject: row.subject });
    }
    try {
      // Sent in order on one connection, acknowledged together: JetStream keeps the order they were sent in.
      const acks = await Promise.all(publishable.map((row) => this.bus.publish(row.subject as DurableSubject, row.payload as never, { msgId: row.id })));
      for (const ack of acks) {
        if (ack.duplicate) this.stats.duplicates++;
        else this.stats.published++;
      }
    } catch (err) {
      await this.ds
        .query(`UPDATE outbox SET claimed_until = NULL, last_error = $2 WHERE seq = ANY($1::bigint[])`, [publishable.map((r) => r.seq), (err as Error).message.slice(0, 2000)])
        .catch(() => undefined); // else the claim runs out
      throw err;
    }
    if (publishable.length) await preparedQuery(this.ds, `UPDATE outbox SET published_at = now(), claimed_until = NULL WHERE seq = ANY($1::bigint[])`, [publishable.map((r) => r.seq)]);
    return rows.length;
  }

  private async purge(): Promise<void> {
    try {
      await this.ds.query(`DELETE FROM outbox WHERE published_at < now() - ($1 || ' milliseconds')::interval`, [String(this.opts.keepPublishedMs)]);
    } catch (err) {
      this.log.warn('outbox purge failed', { error: (err as Error).message });
    }
  }
}
