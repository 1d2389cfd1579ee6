import { DEFAULT_PROJECT_ID } from '@pipewright/contracts';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every resource belongs to a project. Rows created before projects existed land in the project
 * named `default`; names become unique per project and kind (regardless of case).
 */
export class ResourcesInProjects1768100000000 implements MigrationInterface {
  name = 'ResourcesInProjects1768100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE resources ADD COLUMN project_id uuid NOT NULL DEFAULT '${DEFAULT_PROJECT_ID}'`);
    await q.query(`DROP INDEX resources_kind_name`);
    await q.query(`DROP INDEX resources_kind_page`);
    // Lists page by (lower(name), id) within one project and kind; usage counts by project.
    await q.query(`CREATE UNIQUE INDEX resources_project_kind_name ON resources (project_id, kind, lower(name))`);
    await q.query(`CREATE INDEX resources_project_kind_page ON resources (project_id, kind, lower(name), id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX resources_project_kind_page`);
    await q.query(`DROP INDEX resources_project_kind_name`);
    await q.query(`CREATE UNIQUE INDEX resources_kind_name ON resources (kind, lower(name))`);
    await q.query(`CREATE INDEX resources_kind_page ON resources (kind, lower(name), id)`);
    await q.query(`ALTER TABLE resources DROP COLUMN project_id`);
  }
}
