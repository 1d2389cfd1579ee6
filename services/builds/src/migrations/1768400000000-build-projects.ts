import { DEFAULT_PROJECT_ID } from '@pipewright/contracts';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every build belongs to a project (its run's). Builds made before projects existed land in the project named `default`. */
export class BuildProjects1768400000000 implements MigrationInterface {
  name = 'BuildProjects1768400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE builds ADD COLUMN project_id uuid NOT NULL DEFAULT '${DEFAULT_PROJECT_ID}'`);
    await q.query(`CREATE INDEX builds_project ON builds (project_id, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX builds_project`);
    await q.query(`ALTER TABLE builds DROP COLUMN project_id`);
  }
}
