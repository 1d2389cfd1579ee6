import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreatePipelines1767200000000 implements MigrationInterface {
  name = 'CreatePipelines1767200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pipelines (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        revision int NOT NULL,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by text NOT NULL,
        deleted_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX pipelines_name ON pipelines (lower(name)) WHERE deleted_at IS NULL`);
    await q.query(`
      CREATE TABLE pipeline_revisions (
        pipeline_id uuid NOT NULL REFERENCES pipelines(id),
        revision int NOT NULL,
        document jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        note text NOT NULL,
        PRIMARY KEY (pipeline_id, revision)
      )`);
    await q.query(`
      CREATE TABLE pipeline_references (
        pipeline_id uuid NOT NULL REFERENCES pipelines(id),
        kind text NOT NULL,
        resource_id text NOT NULL,
        PRIMARY KEY (pipeline_id, kind, resource_id)
      )`);
    await q.query(`CREATE INDEX pipeline_references_target ON pipeline_references (kind, resource_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pipeline_references`);
    await q.query(`DROP TABLE pipeline_revisions`);
    await q.query(`DROP TABLE pipelines`);
  }
}
