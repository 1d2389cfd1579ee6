import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A message waiting to reach JetStream. It is written in the same transaction as the state change
 * it reports; the relay publishes it with `Nats-Msg-Id` = id, so a crash between the commit and the
 * publish loses nothing and a second publish is dropped by JetStream's duplicate window.
 */
@Entity({ name: 'outbox' })
@Index('outbox_unpublished', ['seq'], { where: 'published_at IS NULL' })
export class OutboxEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'uuid', unique: true, default: () => 'gen_random_uuid()' })
  id!: string;

  /** The subject without the NATS prefix, e.g. `evt.executions.run.status-changed.v1`. */
  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'jsonb' })
  payload!: unknown;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  /** Held by a relay until then while it publishes the row (see OutboxClaims). */
  @Column({ name: 'claimed_until', type: 'timestamptz', nullable: true })
  claimedUntil!: Date | null;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;
}

/** Channel on which an insert into `outbox` is announced (see the migration's trigger). */
export const OUTBOX_CHANNEL = 'pw_outbox';
