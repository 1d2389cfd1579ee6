import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTriggers1769300000000 implements MigrationInterface {
  name = 'CreateTriggers1769300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE triggers (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL,
        pipeline_id uuid NOT NULL,
        type text NOT NULL,
        name text NOT NULL,
        config jsonb NOT NULL,
        enabled boolean NOT NULL,
        secret jsonb,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        schedule_from timestamptz,
        poll_state jsonb,
        polled_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX triggers_pipeline_name ON triggers (pipeline_id, lower(name))`);
    await q.query(`CREATE INDEX triggers_project ON triggers (project_id)`);
    await q.query(`CREATE INDEX triggers_upstream ON triggers ((config->>'pipelineId')) WHERE type = 'PIPELINE'`);
    await q.query(`
      CREATE TABLE trigger_deliveries (
        id uuid PRIMARY KEY,
        trigger_id uuid NOT NULL REFERENCES triggers(id) ON DELETE CASCADE,
        project_id uuid NOT NULL,
        dedupe_key text,
        provider_delivery_id text,
        event text NOT NULL,
        payload jsonb,
        headers jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL,
        reason text,
        run_id uuid,
        summary text,
        redelivery_of uuid,
        received_at timestamptz NOT NULL,
        processed_at timestamptz,
        UNIQUE (trigger_id, dedupe_key)
      )`);
    await q.query(`CREATE INDEX trigger_deliveries_recent ON trigger_deliveries (trigger_id, received_at DESC, id DESC)`);
    await q.query(`CREATE INDEX trigger_deliveries_age ON trigger_deliveries (received_at)`);
    await q.query(`CREATE INDEX trigger_deliveries_run ON trigger_deliveries (run_id) WHERE run_id IS NOT NULL`);
    // The work: one row per delivery to process, claimed with FOR UPDATE SKIP LOCKED under a lease.
    await q.query(`
      CREATE TABLE delivery_queue (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES trigger_deliveries(id) ON DELETE CASCADE,
        due_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        lease_owner text,
        attempts int NOT NULL DEFAULT 0,
        last_error text
      )`);
    await q.query(`CREATE INDEX delivery_queue_due ON delivery_queue (due_at, id)`);
    await q.query(`
      CREATE FUNCTION pw_triggers_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('pw_triggers', ''); RETURN NULL; END $$`);
    await q.query(`CREATE TRIGGER delivery_queue_notify AFTER INSERT ON delivery_queue FOR EACH STATEMENT EXECUTE FUNCTION pw_triggers_notify()`);
    // The leader's schedule wakes when a trigger is made, changed or removed on any instance.
    await q.query(`
      CREATE FUNCTION pw_triggers_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('pw_triggers_changed', ''); RETURN NULL; END $$`);
    await q.query(`CREATE TRIGGER triggers_changed_notify AFTER INSERT OR UPDATE OF config, enabled OR DELETE ON triggers FOR EACH STATEMENT EXECUTE FUNCTION pw_triggers_changed_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE delivery_queue`);
    await q.query(`DROP TABLE trigger_deliveries`);
    await q.query(`DROP TABLE triggers`);
    await q.query(`DROP FUNCTION pw_triggers_notify()`);
    await q.query(`DROP FUNCTION pw_triggers_changed_notify()`);
  }
}
