import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import { readTestEnvFile, testEnv } from './test-env';

/** deploy/nats/nats-config.cjs: the users and permissions of Pipewright's nats-server. */
export interface NatsConfigModule {
  PRINCIPALS: Record<string, unknown>;
  ADMIN_USER: string;
  permissionsFor(name: string, prefix?: string): { publish: string[]; subscribe: string[]; allowResponses: boolean };
  natsServerConfig(options: { port: number; storeDir: string; prefix?: string; passwords?: Record<string, string>; envPasswords?: boolean; admin?: boolean; monitorPort?: number; host?: string; serverName?: string }): string;
  envName(user: string): string;
  ensurePasswords(existing?: Record<string, string>, admin?: boolean): Record<string, string>;
  writeServerFiles(options: { dir: string; port: number; storeDir?: string; prefix?: string; admin?: boolean; monitorPort?: number; serverName?: string }): { config: string; credentials: string; passwords: Record<string, string> };
}

export const natsConfig: NatsConfigModule = require(join(__dirname, '..', '..', '..', 'deploy', 'nats', 'nats-config.cjs'));

/** A NATS server and the passwords of its users (each service, the gateway, and the tests' admin). */
export interface NatsAccess {
  url: string;
  passwords: Record<string, string>;
}

/** The test environment's NATS (deploy/testenv/up writes its URL and every user's password). */
export function testNats(): NatsAccess {
  const file = readTestEnvFile();
  const passwords: Record<string, string> = {};
  for (const user of [...Object.keys(natsConfig.PRINCIPALS), natsConfig.ADMIN_USER]) {
    const key = natsConfig.envName(user);
    const value = process.env[key] ?? file[key];
    if (value) passwords[user] = value;
  }
  if (!passwords[natsConfig.ADMIN_USER]) testEnv(natsConfig.envName(natsConfig.ADMIN_USER)); // fails naming the fix
  return { url: testEnv('NATS_URL'), passwords };
}

/** The environment a service (or the gateway) connects with: URL, user and password. */
export function natsEnv(access: NatsAccess, user: string): { NATS_URL: string; NATS_USER: string; NATS_PASSWORD: string } {
  const password = access.passwords[user];
  if (!password) throw new Error(`no NATS password for user ${user} (known: ${Object.keys(access.passwords).join(', ')})`);
  return { NATS_URL: access.url, NATS_USER: user, NATS_PASSWORD: password };
}

/** A NATS prefix no other suite uses, so streams and subjects never collide between suites. */
export function uniquePrefix(label = 't'): string {
  return `t${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 12)}${randomBytes(4).toString('hex')}`;
}

/**
 * A connection to the test environment's NATS (or `access`'s) as `user`: by default the tests'
 * admin, who may do anything; as a service's user it has that service's permissions only.
 */
export function connectTestNats(name = 'test', options: { access?: NatsAccess; user?: string } & Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  const { access = testNats(), user = natsConfig.ADMIN_USER, ...rest } = options;
  return connect({ servers: access.url, name, user, pass: access.passwords[user], inboxPrefix: `_INBOX_${user}`, ...rest });
}

/** Deletes the JetStream streams a prefix created (the suite's cleanup). */
export async function deleteStreams(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const stem = prefix.toUpperCase().replace(/-/g, '_');
  for (const name of [`${stem}_EVENTS`, `${stem}_COMMANDS`]) await jsm.streams.delete(name).catch(() => undefined);
}
