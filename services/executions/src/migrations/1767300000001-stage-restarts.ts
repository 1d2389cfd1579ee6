import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Who restarted a stage and when (restartStage). */
export class StageRestarts1767300000001 implements MigrationInterface {
  name = 'StageRestarts1767300000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stage_runs ADD COLUMN restarted_by text, ADD COLUMN restarted_at timestamptz`);
    await q.query(`CREATE INDEX runs_retention ON runs (pipeline_id, finished_at) WHERE finished_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX runs_retention`);
    await q.query(`ALTER TABLE stage_runs DROP COLUMN restarted_by, DROP COLUMN restarted_at`);
  }
}
