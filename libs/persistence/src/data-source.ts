import { Client } from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';
import { OutboxEntity } from './outbox.entity';
import { CreateOutbox1767000000000, OutboxClaims1769000000001 } from './outbox.migration';
import { CreateRequestNonces1769200000000 } from './request-nonces';

export interface DataSourceOptions {
  url: string;
  /** Entity classes (the outbox is always added). */
  entities?: Array<new () => object>;
  /** Migration classes, oldest first (the outbox's and the request nonces' come first). */
  migrations?: Array<new () => MigrationInterface>;
  poolSize?: number;
  applicationName?: string;
}

/** A TypeORM data source for one service's database; the outbox is always part of it. */
export function createDataSource(opts: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities: [OutboxEntity, ...(opts.entities ?? [])],
    migrations: [CreateOutbox1767000000000, OutboxClaims1769000000001, CreateRequestNonces1769200000000, ...(opts.migrations ?? [])],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: opts.applicationName,
    extra: { max: opts.poolSize ?? 10 },
  });
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Creates the database named in `url` when it does not exist yet (connecting to `postgres`). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL names no database (${redactUrl(url)})`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by another replica
      });
    }
  } finally {
    await client.end();
  }
}

/** Initializes the data source and applies pending migrations (never `synchronize`). */
export async function openDatabase(ds: DataSource, opts: { createIfMissing?: boolean } = {}): Promise<DataSource> {
  const url = (ds.options as { url?: string }).url;
  if (opts.createIfMissing && url) await ensureDatabase(url);
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}
