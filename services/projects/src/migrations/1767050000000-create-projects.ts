import { DEFAULT_PROJECT_ID, DEFAULT_PROJECT_SLUG } from '@pipewright/contracts';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Projects, their members and API tokens; and the project `default`, which exists from the first start. */
export class CreateProjects1767050000000 implements MigrationInterface {
  name = 'CreateProjects1767050000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE projects (
        id uuid PRIMARY KEY,
        slug text NOT NULL,
        name text NOT NULL,
        description text,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by text NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX projects_slug ON projects (slug)`);
    await q.query(`
      CREATE TABLE project_members (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        subject text NOT NULL,
        roles text[] NOT NULL,
        added_by text NOT NULL,
        added_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (project_id, subject)
      )`);
    // rpc.projects.memberships looks members up by subject on every gateway request.
    await q.query(`CREATE INDEX project_members_subject ON project_members (subject)`);
    await q.query(`
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        name text NOT NULL,
        roles text[] NOT NULL,
        token_hash text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz,
        revoked_by text
      )`);
    await q.query(`CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash)`);
    await q.query(`CREATE INDEX api_tokens_project_page ON api_tokens (project_id, created_at DESC, id DESC)`);
    await q.query(
      `INSERT INTO projects (id, slug, name, description, created_at, created_by, updated_at, updated_by)
       VALUES ($1, $2, 'Default', 'Everything created without a project, and everything from before projects existed.', now(), 'system', now(), 'system')`,
      [DEFAULT_PROJECT_ID, DEFAULT_PROJECT_SLUG],
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_tokens`);
    await q.query(`DROP TABLE project_members`);
    await q.query(`DROP TABLE projects`);
  }
}
