/**
 * The one work queue of the services: rows of a table claimed with `FOR UPDATE SKIP LOCKED` under a
 * lease, several per round trip; handlers run concurrently up to a limit; while they run, one
 * statement every `leaseMs / 3` renews the leases of all of them, and a handler whose lease is lost
 * (taken over after a stall) or runs out (renewals failing: the database is away) has its signal
 * aborted, the latter a tenth of the lease before its end, so its I/O never outlives its lease.
 * Workers sleep until a NOTIFY (LISTEN re-established after a lost connection, followed by a
 * sweep), a `wake()`, or the backstop sweep.
 *
 * The queue decides when to claim and what to renew; the owner's SQL decides what is claimed, and
 * the handler removes (or reschedules) its row in its own transaction, checking it still holds it.
 *
 * The engine's `engine_messages` (id bigint, kind, run_id, ref_id, payload, due_at, lease_until,
 * lease_owner, attempts, last_error; its insert trigger NOTIFYs `pw_engine`):
 *
 *   const table = messageTable<EngineMessage>(ds, {
 *     table: 'engine_messages', owner: leaseOwner('executions'), leaseMs: config.ENGINE_LEASE_SECONDS * 1000,
 *     columns: `m.kind, m.run_id AS "runId", m.ref_id AS "refId", m.payload, m.attempts`,
 *   });
 *   const queue = new WorkQueue<EngineMessage>({
 *     name: 'engine', connection: ds, channel: 'pw_engine',
 *     concurrency: config.ENGINE_WORKERS, batchSize: 32, sweepMs: config.ENGINE_SWEEP_MS,
 *     leaseMs: table.leaseMs, claim: table.claim, renew: table.renew,
 *     // In its transaction: `SELECT 1 FROM engine_messages WHERE id = $1 AND lease_owner = $2 FOR UPDATE`,
 *     // apply, then `DELETE FROM engine_messages WHERE id = $1`. Stage I/O gets `lease.signal`.
 *     handle: (msg, lease) => handlers[msg.kind].handle(msg, lease.signal),
 *     onError: (msg, err) => table.retryLater(msg.id, Math.min(30_000, 250 * 2 ** msg.attempts), err).then(() => undefined),
 *   });
 *   await queue.start();                 // after openDatabase(ds)
 *   queue.wake(outcome.retryAfterMs);    // a follow-up this process enqueued with a delay: no need to wait for the sweep
 *   await queue.handleNow(leasedMsg);    // a message inserted already leased to table.owner (enqueueLeased)
 *   await queue.stop();                  // on shutdown: aborts lease.signal with QueueStoppingError, waits for handlers
 */
import { consoleQueueLogger, type PgConnection, type QueueLogger } from './pg-listener';
import { WakeLoop } from './wake-loop';

/** What a handler gets with its item. */
export interface Lease {
  /** Aborted when the lease is lost or runs out (LeaseLostError), the queue stops (QueueStoppingError), or `cancelled` says so (its reason). */
  readonly signal: AbortSignal;
}

/** The abort reason when another worker may hold the item now: stop its I/O, write nothing more for it. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** The abort reason when the service stops: the item is left for the next worker (after its lease, or as onError releases it). */
export class QueueStoppingError extends Error {
  override name = 'QueueStoppingError';
}

export interface WorkQueueOptions<T extends { id: string }> {
  /** Names the queue in logs and errors, e.g. `builds`. */
  name: string;
  /** Most handlers running at once in this process. */
  concurrency: number;
  /** Most items claimed in one round trip (default: `concurrency`); a claim never asks for more than the free slots. */
  batchSize?: number;
  /** Backstop: claim at least this often when nothing wakes the queue. */
  sweepMs: number;
  /** The NOTIFY channel that announces new work (with `connection`). */
  channel?: string;
  /** Where to LISTEN: the data source (initialized) or pg client settings. */
  connection?: PgConnection;
  /** The lease a claim and a renewal set, in ms; with `renew`, renewed every leaseMs/3 while handled. */
  leaseMs?: number;
  /** Claims up to `limit` items for this worker (e.g. messageTable's claim). */
  claim(limit: number): Promise<T[]>;
  /** Extends the leases of `ids` in one statement; answers the ids still held. */
  renew?(ids: string[]): Promise<string[]>;
  /** On each wake while items are handled: those asked to stop, with why (their signal is aborted with `reason`). */
  cancelled?(ids: string[]): Promise<Array<{ id: string; reason: string }>>;
  handle(item: T, lease: Lease): Promise<void>;
  /** A handler threw (not called when its lease was lost: the item is someone else's now). Default: logged. */
  onError?(item: T, err: unknown): Promise<void> | void;
  logger?: QueueLogger;
}

export interface WorkQueueStats {
  claimed: number;
  handled: number;
  failed: number;
  leasesLost: number;
}

interface InFlight<T> {
  item: T;
  controller: AbortController;
  /** When the lease was last set (claim or renewal sent), by this process's clock: a lower bound. */
  leasedAt: number;
  expiry?: NodeJS.Timeout;
  lost: boolean;
  done: Promise<void>;
}

export class WorkQueue<T extends { id: string }> {
  readonly stats: WorkQueueStats = { claimed: 0, handled: 0, failed: 0, leasesLost: 0 };
  private readonly loop: WakeLoop;
  private readonly inFlight = new Map<string, InFlight<T>>();
  private readonly log: QueueLogger;
  private readonly batchSize: number;
  private readonly beatMs?: number;
  private heartbeat?: NodeJS.Timeout;
  private renewing = false;
  private lastRenewError?: string;
  /** The last claim filled every slot asked for, or a wake came while none was free: a finishing handler claims again. */
  private maybeMore = false;
  private running = false;

  constructor(private readonly opts: WorkQueueOptions<T>) {
    const bad = (field: string, rule: string, got: unknown) => new Error(`WorkQueue ${opts.name}: ${field} ${rule} (got ${JSON.stringify(got)})`);
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw bad('concurrency', 'must be an integer >= 1', opts.concurrency);
    if (opts.batchSize !== undefined && (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)) throw bad('batchSize', 'must be an integer >= 1', opts.batchSize);
    if (opts.renew && !(opts.leaseMs! >= 30)) throw bad('leaseMs', 'must be >= 30 when renew is given (the lease the claim sets, in ms)', opts.leaseMs);
    if (opts.channel && !opts.connection) throw bad('connection', 'must be given with channel (the data source to LISTEN on)', null);
    this.log = opts.logger ?? consoleQueueLogger(`${opts.name} queue`);
    this.batchSize = opts.batchSize ?? opts.concurrency;
    this.beatMs = opts.renew ? opts.leaseMs! / 3 : undefined;
    this.loop = new WakeLoop({
      name: `${opts.name} queue`,
      sweepMs: opts.sweepMs,
      pass: () => this.pass(),
      listen: opts.channel ? { connection: opts.connection!, channels: [opts.channel] } : undefined,
      logger: this.log,
    });
  }

  /** The LISTEN connection, when there is a channel. */
  get listener() {
    return this.loop.listener;
  }

  /** Items being handled now. */
  get busy(): number {
    return this.inFlight.size;
  }

  /** Listens, claims at once, and keeps claiming as slots free up. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.beatMs) {
      this.heartbeat = setInterval(() => void this.beat(), this.beatMs);
      this.heartbeat.unref();
    }
    await this.loop.start();
  }

  /**
   * Stops claiming, gives running handlers `graceMs` to end, then aborts their signals with a
   * QueueStoppingError and waits for them; leases are renewed until the last one has returned.
   */
  async stop(opts: { graceMs?: number } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop.stop();
    const all = () => Promise.all([...this.inFlight.values()].map((e) => e.done));
    if (opts.graceMs && this.inFlight.size) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all(), new Promise((r) => (timer = setTimeout(r, opts.graceMs)))]);
      clearTimeout(timer);
    }
    const reason = new QueueStoppingError(`the ${this.opts.name} service is stopping; the item is left for the next worker`);
    for (const e of this.inFlight.values()) if (!e.controller.signal.aborted) e.controller.abort(reason);
    await all();
    clearInterval(this.heartbeat);
  }

  /** Claims now, e.g. after enqueueing work in this process; with `afterMs`, when a delayed item falls due. */
  wake(afterMs = 0): void {
    this.loop.wake(afterMs);
  }

  /**
   * Handles an item this process already holds the lease of (claimed elsewhere, e.g. inserted
   * leased to its owner), under the same heartbeat; resolves when its handler has returned (a
   * failure went to onError). It counts against `concurrency` but does not wait for a slot.
   */
  handleNow(item: T, opts: { leasedAt?: number } = {}): Promise<void> {
    if (!this.running) throw new Error(`WorkQueue ${this.opts.name} is not running: call start() before handleNow()`);
    return this.begin(item, opts.leasedAt ?? Date.now()).done;
  }

  private async pass(): Promise<void> {
    if (this.opts.cancelled && this.inFlight.size) await this.checkCancels();
    const free = this.opts.concurrency - this.inFlight.size;
    if (free <= 0) {
      this.maybeMore = true;
      return;
    }
    const limit = Math.min(free, this.batchSize);
    const claimedAt = Date.now();
    const items = await this.opts.claim(limit);
    this.stats.claimed += items.length;
    if (!this.running && items.length) {
      this.log.warn(`${this.opts.name}: stopping; ${items.length} item(s) claimed just now are left to be taken over when their lease runs out`, { ids: items.map((i) => i.id) });
      return;
    }
    for (const item of items) this.begin(item, claimedAt);
    this.maybeMore = items.length >= limit;
    if (this.maybeMore && this.inFlight.size < this.opts.concurrency) this.loop.wake();
  }

  private begin(item: T, leasedAt: number): InFlight<T> {
    const previous = this.inFlight.get(item.id);
    // Claimed again while a handler of ours still winds down: its lease ran out, so it must stop; the new one waits for it.
    if (previous && !previous.controller.signal.aborted) this.loseLease(previous, 'it was claimed again after its lease ran out');
    const entry: InFlight<T> = { item, controller: new AbortController(), leasedAt, lost: false, done: Promise.resolve() };
    this.inFlight.set(item.id, entry);
    this.armExpiry(entry);
    entry.done = (previous?.done ?? Promise.resolve())
      .then(() => this.run(entry))
      .finally(() => {
        clearTimeout(entry.expiry);
        if (this.inFlight.get(item.id) === entry) this.inFlight.delete(item.id);
        if (this.maybeMore) this.loop.wake();
      });
    return entry;
  }

  private async run(entry: InFlight<T>): Promise<void> {
    try {
      await this.opts.handle(entry.item, { signal: entry.controller.signal });
      this.stats.handled++;
    } catch (err) {
      this.stats.failed++;
      if (entry.lost) {
        this.log.warn(`${this.opts.name}: the handler of ${entry.item.id} ended after losing its lease`, { error: (err as Error)?.message ?? String(err) });
        return;
      }
      try {
        if (this.opts.onError) await this.opts.onError(entry.item, err);
        else this.log.error(`${this.opts.name}: handling ${entry.item.id} failed`, { error: (err as Error)?.message ?? String(err) });
      } catch (e) {
        this.log.error(`${this.opts.name}: onError for ${entry.item.id} failed`, { error: (e as Error).message, cause: (err as Error)?.message });
      }
    }
  }

  /**
   * Aborts the handler when its lease is about to run out before a renewal got through: a tenth of
   * the lease early, so that its I/O has stopped by the time another worker may claim the item.
   */
  private armExpiry(entry: InFlight<T>): void {
    if (!this.opts.leaseMs || !this.opts.renew) return;
    clearTimeout(entry.expiry);
    entry.expiry = setTimeout(() => {
      const why = this.lastRenewError ? `renewing it failed (${this.lastRenewError})` : 'no renewal got through in time';
      this.loseLease(entry, `its lease of ${this.opts.leaseMs} ms ran out: ${why}`);
    }, Math.max(0, entry.leasedAt + this.opts.leaseMs * 0.9 - Date.now()));
    entry.expiry.unref();
  }

  private loseLease(entry: InFlight<T>, why: string): void {
    if (entry.lost) return;
    entry.lost = true;
    clearTimeout(entry.expiry);
    this.stats.leasesLost++;
    this.log.warn(`${this.opts.name}: lost the lease of ${entry.item.id} (${why}); stopping its handler, another worker may take it over`);
    if (!entry.controller.signal.aborted) entry.controller.abort(new LeaseLostError(`the lease of ${this.opts.name} item ${entry.item.id} was lost: ${why}`));
  }

  /** One statement renews every lease in flight that was set at least half a beat ago; a lease not held any more stops its handler. */
  private async beat(): Promise<void> {
    if (this.renewing || !this.inFlight.size) return;
    const now = Date.now();
    const due = [...this.inFlight.values()].filter((e) => !e.lost && now - e.leasedAt >= this.beatMs! / 2);
    if (!due.length) return;
    this.renewing = true;
    try {
      const held = new Set(await this.opts.renew!(due.map((e) => e.item.id)));
      this.lastRenewError = undefined;
      for (const e of due) {
        if (this.inFlight.get(e.item.id) !== e || e.lost) continue; // ended meanwhile
        if (held.has(e.item.id)) {
          e.leasedAt = now;
          this.armExpiry(e);
        } else {
          this.loseLease(e, 'the renewal found it held by another worker, or gone');
        }
      }
    } catch (err) {
      this.lastRenewError = (err as Error).message;
      this.log.warn(`${this.opts.name}: renewing ${due.length} lease(s) failed; retrying at the next beat, and a handler whose lease runs out first is stopped`, { error: this.lastRenewError });
    } finally {
      this.renewing = false;
    }
  }

  private async checkCancels(): Promise<void> {
    const ids = [...this.inFlight.values()].filter((e) => !e.controller.signal.aborted).map((e) => e.item.id);
    if (!ids.length) return;
    try {
      for (const { id, reason } of await this.opts.cancelled!(ids)) {
        const e = this.inFlight.get(id);
        if (e && !e.controller.signal.aborted) e.controller.abort(reason);
      }
    } catch (err) {
      this.log.warn(`${this.opts.name}: checking for cancels failed; checking again at the next wake`, { error: (err as Error).message });
    }
  }
}
