import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The run as it was at each event sequence, so a subscriber is shown every state in order (not
 * just the newest) and one that reconnects can be replayed what it missed.
 */
export class RunHistory1767300000002 implements MigrationInterface {
  name = 'RunHistory1767300000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE run_history (
        run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        sequence int NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        state jsonb NOT NULL,
        PRIMARY KEY (run_id, sequence)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE run_history`);
  }
}
