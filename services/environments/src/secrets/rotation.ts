import type { DataSource } from 'typeorm';
import { ResourceEntity } from '../resources/resource.entity';
import type { SecretBox } from '@pipewright/platform';

/** The additional data that binds a sealed value to its row and field. */
export const secretAad = (id: string, field: string) => `${id}:${field}`;

/**
 * Re-seals every secret that another key sealed, under the box's active key, in batches that
 * lock their rows (SKIP LOCKED, so it can run beside the live service). Returns rows changed.
 */
export async function rotateSecrets(ds: DataSource, box: SecretBox, batchSize = 100): Promise<{ rotated: number; left: number }> {
  let rotated = 0;
  for (let more = true; more; ) {
    more = await ds.transaction(async (tx) => {
      const rows: ResourceEntity[] = await tx
        .getRepository(ResourceEntity)
        .createQueryBuilder('r')
        .where(`EXISTS (SELECT 1 FROM jsonb_each(r.secrets) s WHERE s.value->>'kid' <> :kid)`, { kid: box.activeKeyId })
        .orderBy('r.id')
        .limit(batchSize)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      for (const row of rows) {
        const secrets = Object.fromEntries(Object.entries(row.secrets).map(([field, sealed]) => [field, box.reseal(sealed, secretAad(row.id, field)) ?? sealed]));
        await tx.update(ResourceEntity, { id: row.id }, { secrets });
      }
      rotated += rows.length;
      return rows.length === batchSize;
    });
  }
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM resources WHERE EXISTS (SELECT 1 FROM jsonb_each(secrets) s WHERE s.value->>'kid' <> $1)`, [box.activeKeyId]);
  return { rotated, left: n };
}
