import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateResources1767100000000 implements MigrationInterface {
  name = 'CreateResources1767100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE resources (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        name text NOT NULL,
        config jsonb NOT NULL,
        secrets jsonb NOT NULL DEFAULT '{}',
        version int NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by text NOT NULL
      )`);
    // Names are unique per kind regardless of case; listing pages by (lower(name), id).
    await q.query(`CREATE UNIQUE INDEX resources_kind_name ON resources (kind, lower(name))`);
    await q.query(`CREATE INDEX resources_kind_page ON resources (kind, lower(name), id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE resources`);
  }
}
