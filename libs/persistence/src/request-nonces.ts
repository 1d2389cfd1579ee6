import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { preparedQuery } from './prepared';

/**
 * The nonces of the gateway's signed requests a service has accepted, shared by its replicas (and
 * kept across a restart), so a captured request is refused by every replica, not only by the one
 * that served it. Unlogged: a nonce only needs to outlive the signature's window, not a crash of
 * the database.
 */
export class CreateRequestNonces1769200000000 implements MigrationInterface {
  name = 'CreateRequestNonces1769200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNLOGGED TABLE request_nonces (nonce text PRIMARY KEY, expires_at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX request_nonces_expiry ON request_nonces (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE request_nonces`);
  }
}

/** Claims nonces in `request_nonces`: a nonce is claimed once, by one request of any replica. */
export class SharedNonces {
  private sweptAt = 0;

  constructor(
    private readonly ds: DataSource,
    /** How long a nonce is kept: past the signature's window (60 s) on both sides of the clock. */
    private readonly keepMs = 240_000,
  ) {}

  /** True when this is the nonce's first use; false when any replica has accepted it already. */
  async claim(nonce: string, now = Date.now()): Promise<boolean> {
    if (now - this.sweptAt >= 60_000) {
      this.sweptAt = now;
      void this.ds.query(`DELETE FROM request_nonces WHERE expires_at < now()`).catch(() => undefined);
    }
    // A prepared statement on the pool (no TypeORM query runner): this runs for every subgraph request.
    const rows = await preparedQuery(this.ds, `INSERT INTO request_nonces (nonce, expires_at) VALUES ($1, now() + make_interval(secs => $2::float8)) ON CONFLICT (nonce) DO NOTHING RETURNING 1 AS claimed`, [
      nonce,
      this.keepMs / 1000,
    ]);
    return rows.length > 0;
  }
}
