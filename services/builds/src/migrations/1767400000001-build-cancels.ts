import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Cancels that arrived before their build's start command: the start then ends the build at once. */
export class BuildCancels1767400000001 implements MigrationInterface {
  name = 'BuildCancels1767400000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE build_cancels (build_request_id uuid PRIMARY KEY, reason text NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE build_cancels`);
  }
}
