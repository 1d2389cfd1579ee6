import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { rowsOf, type Queryable } from './message-table';

const names = new Map<string, string>();

/** The prepared statement's name for a text: the same text always gets the same name, two texts never one. */
export function statementName(text: string): string {
  let name = names.get(text);
  if (!name) names.set(text, (name = `pw_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`));
  return name;
}

type PgQueryable = Pick<Pool | PoolClient, 'query'>;

/** The connection a query runner holds (its transaction's, when it is in one). */
async function runnerConnection(runner: QueryRunner): Promise<PgQueryable> {
  if (runner.isReleased) throw new Error('the query runner was released: run the statement inside its transaction (or on the data source)');
  return (await runner.connect()) as PgQueryable;
}

/** The pg client or pool behind a TypeORM handle: a query runner's or a transaction's own connection when it has one. */
async function pgOf(db: Queryable | EntityManager | DataSource | QueryRunner): Promise<PgQueryable | null> {
  const d = db as Partial<DataSource> & Partial<EntityManager> & Partial<QueryRunner>;
  const isRunner = typeof d.isReleased === 'boolean' && typeof d.connect === 'function';
  if (isRunner) return runnerConnection(db as QueryRunner);
  if (d.queryRunner) return runnerConnection(d.queryRunner);
  const driver = (d.driver ?? d.connection?.driver) as { master?: PgQueryable; options?: { type?: string } } | undefined;
  if (driver?.options?.type === 'postgres' && driver.master) return driver.master;
  return null;
}

/**
 * Runs a statement as a named prepared statement: each connection parses and plans it once (after
 * five runs PostgreSQL keeps a generic plan), so the hot paths of the engine and the queues do not
 * pay for planning on every call. On a TypeORM transaction's manager (or a query runner) it runs
 * on that transaction's connection; on a data source or a plain manager, on any pooled one.
 * Anything else (a pg Client, say) just runs the text. Answers the rows. A prepared statement's
 * result columns are fixed when it is prepared: name them (`SELECT *` on a table a migration
 * changes while the process runs fails with "cached plan must not change result type").
 */
export async function preparedQuery<R = Record<string, unknown>>(db: Queryable | EntityManager | DataSource | QueryRunner, text: string, values: unknown[]): Promise<R[]> {
  const pg = await pgOf(db);
  if (!pg) return rowsOf<R>(await (db as Queryable).query(text, values));
  const result = await pg.query({ name: statementName(text), text, values });
  return result.rows as R[];
}
