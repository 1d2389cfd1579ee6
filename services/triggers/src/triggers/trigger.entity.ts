import type { TriggerType } from '@pipewright/contracts';
import type { SealedSecret } from '@pipewright/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TriggerConfig } from './trigger-config';

@Entity({ name: 'triggers' })
export class TriggerEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId!: string;
  @Column({ name: 'pipeline_id', type: 'uuid' }) pipelineId!: string;
  @Column({ type: 'text' }) type!: TriggerType;
  @Column({ type: 'text' }) name!: string;
  /** The type's config with its defaults (trigger-config.ts). */
  @Column({ type: 'jsonb' }) config!: TriggerConfig;
  @Column({ type: 'boolean' }) enabled!: boolean;
  /** The webhook secret or bearer token, sealed (hook types only). */
  @Column({ type: 'jsonb', nullable: true }) secret!: SealedSecret | null;
  @Column({ name: 'created_by', type: 'text' }) createdBy!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  /** CRON: the times after this one are still to fire (or to count as missed). */
  @Column({ name: 'schedule_from', type: 'timestamptz', nullable: true }) scheduleFrom!: Date | null;
  /** IMAGE_PUSH polling: the digest last seen of each tag; null before the first poll. */
  @Column({ name: 'poll_state', type: 'jsonb', nullable: true }) pollState!: Record<string, string> | null;
  @Column({ name: 'polled_at', type: 'timestamptz', nullable: true }) polledAt!: Date | null;
}

export type DeliveryStatus = 'PENDING' | 'STARTED' | 'IGNORED' | 'REJECTED';

@Entity({ name: 'trigger_deliveries' })
export class DeliveryEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'trigger_id', type: 'uuid' }) triggerId!: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId!: string;
  /** What makes a repeat of this delivery start nothing (the provider's delivery id, `cron:<time>`, `run:<id>`); null: never deduplicated. */
  @Column({ name: 'dedupe_key', type: 'text', nullable: true }) dedupeKey!: string | null;
  @Column({ name: 'provider_delivery_id', type: 'text', nullable: true }) providerDeliveryId!: string | null;
  @Column({ type: 'text' }) event!: string;
  /** The event (null for one refused before it was read: a bad signature). */
  @Column({ type: 'jsonb', nullable: true }) payload!: unknown;
  /** The provider's headers that say what it is (event, delivery id, user agent). */
  @Column({ type: 'jsonb' }) headers!: Record<string, string>;
  @Column({ type: 'text' }) status!: DeliveryStatus;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ name: 'run_id', type: 'uuid', nullable: true }) runId!: string | null;
  @Column({ type: 'text', nullable: true }) summary!: string | null;
  @Column({ name: 'redelivery_of', type: 'uuid', nullable: true }) redeliveryOf!: string | null;
  @Column({ name: 'received_at', type: 'timestamptz' }) receivedAt!: Date;
  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true }) processedAt!: Date | null;
}
