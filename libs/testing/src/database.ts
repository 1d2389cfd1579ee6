import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { testEnv } from './test-env';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Runs `fn` with a connection to `url`, closed afterwards. */
export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const admin = <T>(fn: (c: Client) => Promise<T>): Promise<T> => withClient(testEnv('DATABASE_URL'), fn);

/** A new, empty database on the test PostgreSQL server, so suites never share state. */
export async function freshDatabase(label = 'suite'): Promise<TestDatabase> {
  const name = `pw_test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    url: databaseUrlFor(name),
    name,
    drop: () => dropDatabase(name),
  };
}

/** The URL a service would use for a database that `freshDatabase` has not created (it creates it). */
export function databaseUrlFor(name: string): string {
  return databaseUrlOn(testEnv('DATABASE_URL'), name);
}

/** The URL of database `name` on the server that `serverUrl` (any database's URL) points at. */
export function databaseUrlOn(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database on the test environment's server, or on the one `serverUrl` points at. */
export async function dropDatabase(name: string, serverUrl?: string): Promise<void> {
  const drop = (c: Client) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await (serverUrl ? withClient(databaseUrlOn(serverUrl, 'postgres'), drop) : admin(drop));
}
