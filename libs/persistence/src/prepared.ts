import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResult } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { Queryable } from './message-table';

const names = new Map<string, string>();

/** The prepared statement's name for a text: the same text always gets the same name, two texts never one. */
export function statementName(text: string): string {
  let name = names.get(text);
  if (!name) names.set(text, (name = `pw_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`));
  return name;
}

type PgQueryable = Pick<Pool | PoolClient, 'query'>;

/** The pg client or pool behind a TypeORM handle: the transaction's connection when it has one. */
async function pgOf(db: Queryable | EntityManager | DataSource): Promise<PgQueryable | null> {
  const d = db as Partial<DataSource> & Partial<EntityManager>;
  if (d.queryRunner && !d.queryRunner.isReleased) return (await d.queryRunner.connect()) as PgQueryable;
  const driver = (d.driver ?? d.connection?.driver) as { master?: PgQueryable; options?: { type?: string } } | undefined;
  if (driver?.options?.type === 'postgres' && driver.master) return driver.master;
  return null;
}

/**
 * Runs a statement as a named prepared statement: each connection parses and plans it once (after
 * five runs PostgreSQL keeps a generic plan), so the hot paths of the engine and the queues do not
 * pay for planning on every call. On a TypeORM transaction's manager it runs on that
 * transaction's connection; on a data source or a plain manager, on any pooled one. Anything
 * else (a pg Client, say) just runs the text. Answers the rows.
 */
export async function preparedQuery<R = Record<string, unknown>>(db: Queryable | EntityManager | DataSource, text: string, values: unknown[]): Promise<R[]> {
  const pg = await pgOf(db);
  if (!pg) {
    const result = await (db as Queryable).query(text, values);
    return (Array.isArray(result) ? result : ((result as QueryResult).rows ?? [])) as R[];
  }
  const result = await pg.query({ name: statementName(text), text, values });
  return result.rows as R[];
}
