import { Logger } from '@nestjs/common';
import { clientConfigOf } from '@pipewright/persistence';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

/** The advisory lock the triggers service's leader holds (one per database, so per deployment). */
const LEADER_LOCK = 0x70777472; // "pwtr"

/**
 * One leader among the instances of the service: the one whose own connection holds a PostgreSQL
 * advisory lock. The lock goes with the connection, so a leader that dies or loses its database
 * stops being one at once, and another takes over within `retryMs`. The leader checks its
 * connection every `retryMs`; `onChange` hears every change.
 */
export class Leadership {
  private readonly log = new Logger('Leadership');
  private client: Client | null = null;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  leading = false;

  constructor(
    private readonly ds: DataSource,
    private readonly retryMs: number,
    private readonly onChange: (leading: boolean) => void,
  ) {}

  start(): void {
    void this.tick();
  }

  private schedule(): void {
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.retryMs);
  }

  private async tick(): Promise<void> {
    try {
      if (this.leading && this.client) {
        await this.client.query('SELECT 1');
      } else {
        // A check that gets no answer (a half-open connection) fails, rather than waiting for ever.
        const client = new Client({ ...clientConfigOf(this.ds), query_timeout: Math.max(5_000, this.retryMs * 3) });
        client.on('error', (err) => this.lost(client, err));
        client.on('end', () => this.lost(client));
        let locked = false;
        try {
          await client.connect();
          locked = (await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [LEADER_LOCK])).rows[0].locked;
        } catch (err) {
          client.removeAllListeners('end');
          await client.end().catch(() => undefined);
          throw err;
        }
        if (locked && !this.stopped) {
          this.client = client;
          this.leading = true;
          this.log.log({ message: 'this instance leads the schedules and image polls' });
          this.onChange(true);
        } else {
          client.removeAllListeners('end');
          await client.end().catch(() => undefined);
        }
      }
    } catch (err) {
      if (this.client) this.lost(this.client, err as Error);
    }
    this.schedule();
  }

  private lost(client: Client, err?: Error): void {
    if (client !== this.client) return;
    this.client = null;
    client.end().catch(() => undefined);
    if (this.leading) {
      this.leading = false;
      this.log.warn({ message: 'lost the leadership (its database connection)', error: err?.message });
      this.onChange(false);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    if (this.leading) {
      this.leading = false;
      this.onChange(false);
    }
    if (client) {
      client.removeAllListeners('end');
      await client.query('SELECT pg_advisory_unlock($1)', [LEADER_LOCK]).catch(() => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
