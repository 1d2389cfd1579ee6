import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateRuns1767300000000 implements MigrationInterface {
  name = 'CreateRuns1767300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE runs (
        id uuid PRIMARY KEY,
        pipeline_id uuid NOT NULL,
        pipeline_name text NOT NULL,
        revision int NOT NULL,
        number int NOT NULL,
        status text NOT NULL,
        parameters jsonb NOT NULL,
        snapshot jsonb NOT NULL,
        artifacts jsonb NOT NULL DEFAULT '{}',
        sequence int NOT NULL DEFAULT 0,
        reason text,
        parent_run_id uuid REFERENCES runs(id),
        parent_ref_id text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        UNIQUE (pipeline_id, number)
      )`);
    await q.query(`CREATE INDEX runs_pipeline_active ON runs (pipeline_id, created_at) WHERE status IN ('QUEUED', 'RUNNING', 'WAITING')`);
    await q.query(`CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL`);
    await q.query(`
      CREATE TABLE stage_runs (
        run_id uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        ref_id text NOT NULL,
        position int NOT NULL,
        name text NOT NULL,
        type text NOT NULL,
        status text NOT NULL,
        attempt int NOT NULL DEFAULT 0,
        config jsonb,
        state jsonb NOT NULL DEFAULT '{}',
        outputs jsonb,
        error text,
        decision jsonb,
        skip_downstream boolean NOT NULL DEFAULT false,
        started_at timestamptz,
        finished_at timestamptz,
        deadline_at timestamptz,
        PRIMARY KEY (run_id, ref_id)
      )`);
    await q.query(`CREATE TABLE run_counters (pipeline_id uuid PRIMARY KEY, last_number int NOT NULL)`);
    await q.query(`
      CREATE TABLE engine_messages (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        run_id uuid NOT NULL,
        ref_id text,
        payload jsonb NOT NULL DEFAULT '{}',
        due_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        lease_owner text,
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX engine_messages_due ON engine_messages (due_at, id)`);
    await q.query(`
      CREATE FUNCTION pw_engine_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('pw_engine', ''); RETURN NULL; END $$`);
    await q.query(`CREATE TRIGGER engine_messages_notify AFTER INSERT ON engine_messages FOR EACH STATEMENT EXECUTE FUNCTION pw_engine_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE engine_messages`);
    await q.query(`DROP FUNCTION pw_engine_notify()`);
    await q.query(`DROP TABLE run_counters`);
    await q.query(`DROP TABLE stage_runs`);
    await q.query(`DROP TABLE runs`);
  }
}
