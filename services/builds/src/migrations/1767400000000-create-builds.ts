import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Builds, their numbers per pipeline stage, and their logs in chunks. */
export class CreateBuilds1767400000000 implements MigrationInterface {
  name = 'CreateBuilds1767400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE builds (
        id uuid PRIMARY KEY,
        build_request_id uuid NOT NULL UNIQUE,
        run_id uuid NOT NULL,
        run_number int NOT NULL,
        pipeline_id uuid NOT NULL,
        ref_id text NOT NULL,
        stage_type text NOT NULL,
        number int NOT NULL,
        status text NOT NULL,
        command jsonb NOT NULL,
        state jsonb NOT NULL DEFAULT '{}',
        outputs jsonb,
        error text,
        warning text,
        image text,
        digest text,
        cancel_reason text,
        log_lines int NOT NULL DEFAULT 0,
        owner text,
        lease_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        UNIQUE (pipeline_id, ref_id, number)
      )`);
    await q.query(`CREATE INDEX builds_queue ON builds (created_at, id) WHERE status = 'QUEUED'`);
    await q.query(`CREATE INDEX builds_by_stage ON builds (pipeline_id, ref_id, created_at DESC)`);
    await q.query(`CREATE TABLE build_counters (pipeline_id uuid NOT NULL, ref_id text NOT NULL, last_number int NOT NULL, PRIMARY KEY (pipeline_id, ref_id))`);
    await q.query(`
      CREATE TABLE build_log_chunks (
        build_id uuid NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
        first_offset int NOT NULL,
        line_count int NOT NULL,
        lines jsonb NOT NULL,
        PRIMARY KEY (build_id, first_offset)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE build_log_chunks`);
    await q.query(`DROP TABLE build_counters`);
    await q.query(`DROP TABLE builds`);
  }
}
