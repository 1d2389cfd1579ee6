import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The outbox table every service shares in shape (each in its own database). */
export class CreateOutbox1767000000000 implements MigrationInterface {
  name = 'CreateOutbox1767000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        seq bigserial PRIMARY KEY,
        id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
        subject text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        attempts int NOT NULL DEFAULT 0,
        last_error text
      )`);
    await q.query(`CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL`);
    await q.query(`
      CREATE FUNCTION pw_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('pw_outbox', ''); RETURN NULL; END $$`);
    await q.query(`
      CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
      FOR EACH STATEMENT EXECUTE FUNCTION pw_outbox_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
    await q.query(`DROP FUNCTION pw_outbox_notify()`);
  }
}

/**
 * A relay claims outbox rows for a moment (`claimed_until`) in one statement instead of holding
 * them in a transaction while it publishes: two statements a batch instead of four, one when
 * there is nothing to send. A claim whose relay died runs out and the rows are sent again
 * (JetStream drops the repeat by Nats-Msg-Id).
 */
export class OutboxClaims1769000000001 implements MigrationInterface {
  name = 'OutboxClaims1769000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN claimed_until timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox DROP COLUMN claimed_until`);
  }
}
