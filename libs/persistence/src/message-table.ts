import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { preparedQuery } from './prepared';

/** Anything that runs SQL: a DataSource, an EntityManager, a pg Client. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** Who holds a lease, unique per process life: `<service>@<host>:<pid>:<random>`. */
export function leaseOwner(service: string): string {
  return `${service}@${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * The rows of a query's answer: TypeORM answers an UPDATE or DELETE with `[rows, affected]`, a
 * SELECT with the rows, and pg with `{ rows }`.
 */
export function rowsOf<R>(result: unknown): R[] {
  if (result && typeof result === 'object' && Array.isArray((result as { rows?: unknown }).rows)) return (result as { rows: R[] }).rows;
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as R[];
  return Array.isArray(result) ? (result as R[]) : [];
}

function ident(table: string): string {
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(table)) throw new Error(`table "${table}" must be a lower-case SQL name like engine_messages (a-z, 0-9, _; optionally schema.table)`);
  return table;
}

type IdType = 'bigint' | 'uuid' | 'text';

/**
 * Claims up to $3 due, unleased (or lease-expired) rows of a message table, oldest due first,
 * skipping rows another worker is claiming: `$1` owner, `$2` lease in ms, `$3` limit. The table has
 * `id, due_at, lease_until, lease_owner, attempts`; `attempts` counts claims. `columns` is what
 * RETURNING gives besides `id` (as text), with the table aliased `m`. A batch's rows come back in
 * no particular order.
 */
export function claimDueSql(table: string, columns = 'm.*'): string {
  const t = ident(table);
  return `WITH next AS (
      SELECT id FROM ${t} WHERE due_at <= now() AND (lease_until IS NULL OR lease_until < now())
      ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
    UPDATE ${t} m SET lease_owner = $1, lease_until = now() + $2::float8 * interval '1 millisecond', attempts = m.attempts + 1
    FROM next WHERE m.id = next.id
    RETURNING ${columns}, m.id::text AS id`;
}

/** Extends the leases `$2` (owner) still holds among ids `$1` by `$3` ms; RETURNING the ids still held. */
export function renewSql(table: string, idType: IdType = 'bigint'): string {
  return `UPDATE ${ident(table)} SET lease_until = now() + $3::float8 * interval '1 millisecond'
    WHERE id = ANY($1::${idType}[]) AND lease_owner = $2 RETURNING id::text AS id`;
}

/** Gives a row held by `$2` back to the queue, due again in `$3` ms, with `$4` as its `last_error`. */
export function retryLaterSql(table: string, idType: IdType = 'bigint'): string {
  return `UPDATE ${ident(table)} SET lease_owner = NULL, lease_until = NULL, due_at = now() + $3::float8 * interval '1 millisecond', last_error = $4
    WHERE id = $1::${idType} AND lease_owner = $2 RETURNING id::text AS id`;
}

export interface MessageTableOptions<T> {
  table: string;
  /** This process's lease owner (see leaseOwner); every statement checks it. */
  owner: string;
  /** How long a claim or a renewal holds a row; pass the same to WorkQueue's `leaseMs`. */
  leaseMs: number;
  /** RETURNING list besides `id`, table aliased `m` (default `m.*`), e.g. `m.kind, m.run_id AS "runId"`. */
  columns?: string;
  idType?: IdType;
  /** Turns a returned row into the item (default: the row as it is). */
  map?(row: Record<string, unknown>): T;
}

/** The standard message table's statements, bound to a connection, an owner and a lease, ready for WorkQueue. */
export interface MessageTable<T extends { id: string }> {
  readonly owner: string;
  readonly leaseMs: number;
  claim(limit: number): Promise<T[]>;
  /** The ids among `ids` this owner still holds, their leases extended. */
  renew(ids: string[]): Promise<string[]>;
  /** Releases a held row to be claimed again in `delayMs` (needs a `last_error` column); false when it was not held any more. */
  retryLater(id: string, delayMs: number, error: unknown): Promise<boolean>;
}

export function messageTable<T extends { id: string } = { id: string } & Record<string, unknown>>(db: Queryable, opts: MessageTableOptions<T>): MessageTable<T> {
  if (!(opts.leaseMs >= 1000)) throw new Error(`messageTable ${opts.table}: leaseMs must be >= 1000 (got ${opts.leaseMs})`);
  const claimSql = claimDueSql(opts.table, opts.columns);
  const renewQuery = renewSql(opts.table, opts.idType);
  const retrySql = retryLaterSql(opts.table, opts.idType);
  const map = opts.map ?? ((row: Record<string, unknown>) => row as unknown as T);
  // A `*` in RETURNING would fix the table's columns into the prepared statement (see preparedQuery).
  const claimOf = (opts.columns ?? 'm.*').includes('*') ? async (params: unknown[]) => rowsOf<Record<string, unknown>>(await db.query(claimSql, params)) : (params: unknown[]) => preparedQuery(db, claimSql, params);
  return {
    owner: opts.owner,
    leaseMs: opts.leaseMs,
    claim: async (limit) => (await claimOf([opts.owner, opts.leaseMs, limit])).map(map),
    renew: async (ids) => (ids.length ? (await preparedQuery<{ id: string }>(db, renewQuery, [ids, opts.owner, opts.leaseMs])).map((r) => r.id) : []),
    retryLater: async (id, delayMs, error) => {
      const text = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
      return rowsOf(await db.query(retrySql, [id, opts.owner, Math.max(0, Math.round(delayMs)), text])).length > 0;
    },
  };
}
