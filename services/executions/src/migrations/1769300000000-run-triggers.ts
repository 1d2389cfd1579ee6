import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What started a run when a trigger did (`Run.trigger`: type, trigger, delivery, summary); null for a person's or a parent's run. */
export class RunTriggers1769300000000 implements MigrationInterface {
  name = 'RunTriggers1769300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs ADD COLUMN trigger jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs DROP COLUMN trigger`);
  }
}
