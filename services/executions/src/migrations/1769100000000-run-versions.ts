import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A run's version: bumped by every write of the engine's (RunTx.flush). A stage step applies its
 * outcome without a transaction or a lock, in one statement that writes only while the run still
 * has the version the step read (else the step reads the run again and decides again).
 *
 * Also: a NOTIFY on pw_engine only for an insert that has a message someone should claim now (due
 * and not leased). A step a write leases to its own process, or a delayed message (its writer
 * wakes its own queue for it), no longer wakes every worker to claim nothing.
 */
export class RunVersions1769100000000 implements MigrationInterface {
  name = 'RunVersions1769100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs ADD COLUMN version int NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE OR REPLACE FUNCTION pw_engine_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM inserted WHERE lease_owner IS NULL AND due_at <= now()) THEN PERFORM pg_notify('pw_engine', ''); END IF;
        RETURN NULL;
      END $$`);
    await q.query(`DROP TRIGGER engine_messages_notify ON engine_messages`);
    await q.query(`CREATE TRIGGER engine_messages_notify AFTER INSERT ON engine_messages REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION pw_engine_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER engine_messages_notify ON engine_messages`);
    await q.query(`CREATE OR REPLACE FUNCTION pw_engine_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('pw_engine', ''); RETURN NULL; END $$`);
    await q.query(`CREATE TRIGGER engine_messages_notify AFTER INSERT ON engine_messages FOR EACH STATEMENT EXECUTE FUNCTION pw_engine_notify()`);
    await q.query(`ALTER TABLE runs DROP COLUMN version`);
  }
}
