import { Client, type ClientConfig } from 'pg';
import type { DataSource } from 'typeorm';

/** Where the queue and the listener report trouble (BusLogger and Nest's Logger adapt to it). */
export interface QueueLogger {
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

/** Logs as one JSON line per message on stderr, for callers that pass no logger. */
export function consoleQueueLogger(name: string): QueueLogger {
  const write = (level: string) => (message: string, context?: Record<string, unknown>) => console.error(JSON.stringify({ level, context: name, message, ...context }));
  return { warn: write('warn'), error: write('error') };
}

/** Why a listener woke its owner: a NOTIFY, or a new connection (notifications sent meanwhile are lost: sweep). */
export type ListenerWake = { kind: 'notification'; channel: string; payload: string } | { kind: 'reconnected' };

/** A TypeORM data source (its pool's connection settings are reused) or pg client settings. */
export type PgConnection = DataSource | ClientConfig;

export interface PgListenerOptions {
  /** Names the listener in logs, e.g. `builds`. */
  name: string;
  connection: PgConnection;
  channels: string[];
  onWake(wake: ListenerWake): void;
  logger?: QueueLogger;
  /** Longest wait between reconnect attempts (they start at 100 ms and double). */
  maxBackoffMs?: number;
  /** How often the idle connection is checked (a silently dropped connection never errors); 0: never. Default 30 s. */
  healthCheckMs?: number;
}

/**
 * A dedicated connection that LISTENs on channels and comes back after it is lost (a PostgreSQL
 * restart, a killed backend, a dropped network), retrying with capped backoff. It is a pg Client of
 * its own rather than one borrowed from the data source's pool: it does not take a pool slot for
 * ever, and a pool client that dies while checked out emits an 'error' nobody listens to, which
 * crashes the process. Errors here are logged, never thrown.
 */
export class PgListener {
  /** Completed reconnections (each followed by a `reconnected` wake). */
  reconnects = 0;
  private client?: Client;
  private stopped = true;
  private failures = 0;
  private missedSome = false;
  private retryTimer?: NodeJS.Timeout;
  private healthTimer?: NodeJS.Timeout;
  private connecting?: Promise<void>;
  private readonly log: QueueLogger;

  constructor(private readonly opts: PgListenerOptions) {
    if (!opts.channels.length) throw new Error(`PgListener ${opts.name}: channels is empty; name at least one channel to LISTEN on`);
    for (const c of opts.channels) {
      if (!/^[a-z_][a-z0-9_]*$/.test(c)) throw new Error(`PgListener ${opts.name}: channel "${c}" must be a lower-case identifier (a-z, 0-9, _), as NOTIFY folds unquoted names to lower case`);
    }
    this.log = opts.logger ?? consoleQueueLogger(`${opts.name} listener`);
  }

  /** Whether the connection is up and listening now. */
  get listening(): boolean {
    return !!this.client;
  }

  /** The backend process id of the listening connection (for pg_stat_activity and tests). */
  get pid(): number | undefined {
    return (this.client as unknown as { processID?: number } | undefined)?.processID;
  }

  /** Connects and LISTENs; when that fails it logs and keeps retrying in the background (it never throws). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.connecting = this.connect();
    await this.connecting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.healthTimer);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    let config: ClientConfig;
    try {
      config = clientConfigOf(this.opts.connection);
    } catch (err) {
      this.log.error(`${this.opts.name}: cannot LISTEN: ${(err as Error).message}`);
      return;
    }
    const client = new Client(config);
    // Before connect: an 'error' without a listener would crash the process.
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    client.on('notification', (n) => {
      if (client === this.client) this.emit({ kind: 'notification', channel: n.channel, payload: n.payload ?? '' });
    });
    try {
      await client.connect();
      for (const channel of this.opts.channels) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      void client.end().catch(() => undefined);
      if (!this.stopped) this.retry(`could not LISTEN on ${this.opts.channels.join(', ')}: ${(err as Error).message}`);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    this.healthTimer = this.opts.healthCheckMs === 0 ? undefined : setInterval(() => void this.check(client), this.opts.healthCheckMs ?? 30_000);
    this.healthTimer?.unref();
    if (this.missedSome) {
      this.reconnects++;
      this.log.warn(`${this.opts.name}: listening on ${this.opts.channels.join(', ')} again; notifications sent meanwhile are lost, so the owner sweeps now`);
      this.emit({ kind: 'reconnected' });
    }
  }

  private lost(client: Client, err?: Error): void {
    if (client !== this.client) return; // a connection being set up (its connect fails instead) or one already replaced
    this.client = undefined;
    clearInterval(this.healthTimer);
    void client.end().catch(() => undefined);
    if (!this.stopped) this.retry(`the LISTEN connection was lost: ${err?.message ?? 'closed by the server'}`);
  }

  private retry(why: string): void {
    this.missedSome = true;
    if (this.retryTimer) return;
    const delay = Math.min(this.opts.maxBackoffMs ?? 5000, 100 * 2 ** this.failures) * (0.8 + Math.random() * 0.4);
    this.failures++;
    this.log.warn(`${this.opts.name}: ${why}; reconnecting in ${Math.round(delay)} ms`, { attempt: this.failures });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.connecting = this.connect();
    }, delay);
  }

  /**
   * A connection dropped without a FIN never errors by itself: ask it something now and then. The
   * question is a repeated LISTEN (a no-op), so pg_stat_activity keeps showing what it is for.
   */
  private async check(client: Client): Promise<void> {
    const timeoutMs = Math.max(1000, (this.opts.healthCheckMs ?? 30_000) / 2);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer to a health check within ${timeoutMs} ms`)), timeoutMs)));
    try {
      await Promise.race([client.query(`LISTEN ${this.opts.channels[0]}`), timeout]);
    } catch (err) {
      if (client !== this.client) return;
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      this.lost(client, err as Error);
    } finally {
      clearTimeout(timer);
    }
  }

  private emit(wake: ListenerWake): void {
    try {
      this.opts.onWake(wake);
    } catch (err) {
      this.log.error(`${this.opts.name}: the wake handler failed`, { error: (err as Error).message });
    }
  }
}

/** The pg client settings behind a connection: a data source's pool settings (it must be initialized), or the settings given. */
export function clientConfigOf(connection: PgConnection): ClientConfig {
  if (!isDataSource(connection)) return { keepAlive: true, ...connection, connectionTimeoutMillis: connection.connectionTimeoutMillis ?? 10_000 };
  const pool = (connection.driver as unknown as { master?: { options?: ClientConfig } } | undefined)?.master;
  if (!pool?.options) throw new Error('the data source is not initialized; call openDatabase(ds) (or ds.initialize()) before starting a listener or queue on it');
  // The pool's options also hold pool settings (max, idleTimeoutMillis); a Client ignores them.
  const { application_name: app } = pool.options;
  return { ...pool.options, connectionTimeoutMillis: pool.options.connectionTimeoutMillis ?? 10_000, keepAlive: true, application_name: app ? `${app}/listen` : undefined };
}

function isDataSource(c: PgConnection): c is DataSource {
  return typeof (c as DataSource).driver === 'object' && typeof (c as DataSource).initialize === 'function';
}
