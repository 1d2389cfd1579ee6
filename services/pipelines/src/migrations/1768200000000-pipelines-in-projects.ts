import { DEFAULT_PROJECT_ID } from '@pipewright/contracts';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every pipeline belongs to a project (its revisions and references follow it). Pipelines created
 * before projects existed land in the project named `default`; names become unique per project
 * (regardless of case, among pipelines not deleted).
 */
export class PipelinesInProjects1768200000000 implements MigrationInterface {
  name = 'PipelinesInProjects1768200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pipelines ADD COLUMN project_id uuid NOT NULL DEFAULT '${DEFAULT_PROJECT_ID}'`);
    await q.query(`DROP INDEX pipelines_name`);
    await q.query(`CREATE UNIQUE INDEX pipelines_project_name ON pipelines (project_id, lower(name)) WHERE deleted_at IS NULL`);
    // Lists page by (lower(name), id) within a project; usage counts by project.
    await q.query(`CREATE INDEX pipelines_project_page ON pipelines (project_id, lower(name), id) WHERE deleted_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX pipelines_project_page`);
    await q.query(`DROP INDEX pipelines_project_name`);
    await q.query(`CREATE UNIQUE INDEX pipelines_name ON pipelines (lower(name)) WHERE deleted_at IS NULL`);
    await q.query(`ALTER TABLE pipelines DROP COLUMN project_id`);
  }
}
