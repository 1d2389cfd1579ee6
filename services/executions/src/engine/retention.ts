import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Config } from '../config';
import { EXECUTIONS_CONFIG } from '../tokens';

/**
 * Deletes finished runs past RUN_RETENTION_DAYS, keeping the newest RUN_RETENTION_MIN_PER_PIPELINE of
 * each pipeline, and the per-event history of runs that ended more than RUN_HISTORY_HOURS ago (the
 * last state stays).
 */
@Injectable()
export class Retention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Retention');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly ds: DataSource,
    @Inject(EXECUTIONS_CONFIG) private readonly config: Config,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.purge().catch((e: Error) => this.log.warn({ message: 'retention sweep failed', error: e.message })), this.config.RUN_RETENTION_SWEEP_MS);
  }

  onApplicationShutdown() {
    if (this.timer) clearInterval(this.timer);
  }

  /** One sweep; returns how many runs it deleted. */
  async purge(): Promise<number> {
    await this.ds.query(
      `DELETE FROM run_history h USING runs r
       WHERE h.run_id = r.id AND r.finished_at < now() - ($1 || ' hours')::interval AND h.sequence < r.sequence`,
      [String(this.config.RUN_HISTORY_HOURS)],
    );
    return this.ds.transaction(async (tx) => {
      const doomed: { id: string }[] = await tx.query(
        `SELECT id FROM (
           SELECT id, finished_at, row_number() OVER (PARTITION BY pipeline_id ORDER BY number DESC) AS newest
           FROM runs WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED')
         ) r
         WHERE newest > $1 AND finished_at < now() - ($2 || ' days')::interval
         LIMIT 1000`,
        [this.config.RUN_RETENTION_MIN_PER_PIPELINE, String(this.config.RUN_RETENTION_DAYS)],
      );
      if (!doomed.length) return 0;
      const ids = doomed.map((d) => d.id);
      await tx.query(`UPDATE runs SET parent_run_id = NULL WHERE parent_run_id = ANY($1::uuid[])`, [ids]);
      await tx.query(`DELETE FROM engine_messages WHERE run_id = ANY($1::uuid[])`, [ids]);
      await tx.query(`DELETE FROM runs WHERE id = ANY($1::uuid[])`, [ids]);
      this.log.log({ message: `deleted ${ids.length} finished runs past retention` });
      return ids.length;
    });
  }
}
