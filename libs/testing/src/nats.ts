import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { testEnv } from './test-env';

/** A NATS prefix no other suite uses, so streams and subjects never collide between suites. */
export function uniquePrefix(label = 't'): string {
  return `t${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 12)}${randomBytes(4).toString('hex')}`;
}

export function connectTestNats(name = 'test'): Promise<NatsConnection> {
  return connect({ servers: testEnv('NATS_URL'), name });
}

/** Deletes the JetStream streams a prefix created (the suite's cleanup). */
export async function deleteStreams(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const stem = prefix.toUpperCase().replace(/-/g, '_');
  for (const name of [`${stem}_EVENTS`, `${stem}_COMMANDS`]) await jsm.streams.delete(name).catch(() => undefined);
}
