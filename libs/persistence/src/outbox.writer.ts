import { parseMessage, subjects, type DurableSubject, type PayloadOf } from '@pipewright/contracts';
import type { EntityManager } from 'typeorm';

/**
 * Records an event or command in the caller's transaction. It reaches JetStream through the relay
 * once the transaction commits, and never if it rolls back. The payload is validated now, so a bad
 * one fails the state change instead of poisoning the stream later.
 */
export async function writeOutbox<S extends DurableSubject>(
  manager: EntityManager,
  subject: S,
  payload: PayloadOf<S>,
): Promise<string> {
  const valid = parseMessage(subject, subjects[subject].payload, payload);
  const [row]: { id: string }[] = await manager.query(`INSERT INTO outbox (subject, payload) VALUES ($1, $2) RETURNING id`, [subject, JSON.stringify(valid)]);
  return row.id;
}
