import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A stage's generation: how many times restartStage has run it again. Every key derived from an
 * attempt (build request, child run, Idempotency-Key, rollout-undo marker) includes it, so a
 * restarted stage never gets attempt 1's build, child run or delivery back.
 */
export class StageGenerations1769000000000 implements MigrationInterface {
  name = 'StageGenerations1769000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stage_runs ADD COLUMN generation int NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stage_runs DROP COLUMN generation`);
  }
}
