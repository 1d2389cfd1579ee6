import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { DeliveryStatus } from './trigger.entity';

export interface NewDelivery {
  triggerId: string;
  projectId: string;
  /** What makes a repeat start nothing; null: never deduplicated (a redelivery, a webhook without an id). */
  dedupeKey: string | null;
  providerDeliveryId: string | null;
  event: string;
  payload: unknown;
  headers?: Record<string, string>;
  /** PENDING (default) is queued for processing; anything else is recorded as it is. */
  status?: DeliveryStatus;
  reason?: string | null;
  redeliveryOf?: string | null;
  receivedAt?: Date;
}

/**
 * Stores a delivery and, when PENDING, its row in the processing queue, in the caller's
 * transaction: once it commits the delivery is durable and will be processed (by any instance,
 * after a crash too). A dedupe key seen before for the trigger stores nothing and answers the
 * earlier delivery's id with `duplicate`.
 */
export async function storeDelivery(tx: EntityManager, d: NewDelivery): Promise<{ id: string; duplicate: boolean }> {
  const id = randomUUID();
  const status = d.status ?? 'PENDING';
  const rows: { id: string }[] = await tx.query(
    `INSERT INTO trigger_deliveries (id, trigger_id, project_id, dedupe_key, provider_delivery_id, event, payload, headers, status, reason, redelivery_of, received_at, processed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text, $10, $11, $12::timestamptz, CASE WHEN $9::text = 'PENDING' THEN NULL ELSE $12::timestamptz END)
     ON CONFLICT (trigger_id, dedupe_key) DO NOTHING RETURNING id`,
    [id, d.triggerId, d.projectId, d.dedupeKey, d.providerDeliveryId, d.event, d.payload === undefined ? null : JSON.stringify(d.payload), JSON.stringify(d.headers ?? {}), status, d.reason ?? null, d.redeliveryOf ?? null, (d.receivedAt ?? new Date()).toISOString()],
  );
  if (!rows.length) {
    const [earlier]: { id: string }[] = await tx.query(`SELECT id FROM trigger_deliveries WHERE trigger_id = $1 AND dedupe_key = $2`, [d.triggerId, d.dedupeKey]);
    return { id: earlier.id, duplicate: true };
  }
  if (status === 'PENDING') await tx.query(`INSERT INTO delivery_queue (delivery_id) VALUES ($1)`, [id]);
  return { id, duplicate: false };
}
