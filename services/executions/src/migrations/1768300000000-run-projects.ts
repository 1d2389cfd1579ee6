import { DEFAULT_PROJECT_ID } from '@pipewright/contracts';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every run belongs to a project (its pipeline's). Runs made before projects existed land in the
 * project named `default`, and so do the run states kept for subscribers (run_history).
 */
export class RunProjects1768300000000 implements MigrationInterface {
  name = 'RunProjects1768300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs ADD COLUMN project_id uuid NOT NULL DEFAULT '${DEFAULT_PROJECT_ID}'`);
    await q.query(`CREATE INDEX runs_project ON runs (project_id, created_at DESC, id DESC)`);
    await q.query(`UPDATE run_history SET state = jsonb_set(state, '{run,project_id}', to_jsonb($1::text)) WHERE NOT (state -> 'run' ? 'project_id')`, [DEFAULT_PROJECT_ID]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE run_history SET state = state #- '{run,project_id}'`);
    await q.query(`DROP INDEX runs_project`);
    await q.query(`ALTER TABLE runs DROP COLUMN project_id`);
  }
}
