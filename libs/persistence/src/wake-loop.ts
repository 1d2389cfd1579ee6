import { consoleQueueLogger, PgListener, type PgConnection, type QueueLogger } from './pg-listener';

export interface WakeLoopOptions {
  /** Names the loop in logs. */
  name: string;
  /** One round of work. Passes never overlap; wakes during a pass make one more pass after it. */
  pass(): Promise<void>;
  /** The backstop: a pass at least this often while nothing wakes the loop (a NOTIFY can be missed). */
  sweepMs: number;
  /** LISTEN on these channels and pass on every NOTIFY and after every reconnect. */
  listen?: { connection: PgConnection; channels: string[] };
  logger?: QueueLogger;
}

/**
 * The loop under WorkQueue and the outbox relay: it runs `pass` when woken (NOTIFY, `wake()`, the
 * listener coming back after a lost connection) and otherwise every `sweepMs`. A failed pass is
 * logged and retried with capped backoff; a wake cuts the wait short.
 */
export class WakeLoop {
  readonly listener?: PgListener;
  private running = false;
  private woken = false;
  private passing = false;
  private interrupt?: () => void;
  private done?: Promise<void>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private passEnded: Array<() => void> = [];
  private readonly log: QueueLogger;

  constructor(private readonly opts: WakeLoopOptions) {
    if (!(opts.sweepMs > 0)) throw new Error(`${opts.name}: sweepMs must be a number of milliseconds > 0 (got ${opts.sweepMs})`);
    this.log = opts.logger ?? consoleQueueLogger(opts.name);
    if (opts.listen) {
      this.listener = new PgListener({ name: opts.name, ...opts.listen, logger: this.log, onWake: () => this.wake() });
    }
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts listening (never fails: a listener that cannot connect retries) and makes a first pass at once. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.woken = true;
    await this.listener?.start();
    this.done = this.loop();
  }

  /** Stops waking and waits for the pass under way. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.interrupt?.();
    await this.done;
    await this.listener?.stop();
  }

  /** A pass now (or in `afterMs`, e.g. when a delayed item falls due); wakes coalesce. */
  wake(afterMs = 0): void {
    if (!this.running) return;
    if (afterMs > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.wake();
      }, afterMs);
      t.unref();
      this.timers.add(t);
      return;
    }
    this.woken = true;
    this.interrupt?.();
  }

  /** Resolves once no pass is under way or asked for. */
  async idle(): Promise<void> {
    while (this.running && (this.passing || this.woken)) await new Promise<void>((r) => this.passEnded.push(r));
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      if (!this.woken) await this.sleep(failures ? Math.min(this.opts.sweepMs, 5000, 100 * 2 ** failures) : this.opts.sweepMs);
      if (!this.running) break;
      this.woken = false;
      this.passing = true;
      try {
        await this.opts.pass();
        failures = 0;
      } catch (err) {
        failures++;
        this.log.error(`${this.opts.name}: a pass failed; retrying`, { error: (err as Error).message, failures });
      } finally {
        this.passing = false;
        const waiters = this.passEnded;
        this.passEnded = [];
        waiters.forEach((r) => r());
      }
    }
    this.passEnded.forEach((r) => r());
    this.passEnded = [];
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.interrupt = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.interrupt = done;
    });
  }
}
