import { parseMessage, subjects, type DurableSubject, type PayloadOf } from '@pipewright/contracts';
import type { EntityManager } from 'typeorm';
import { OutboxEntity } from './outbox.entity';

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
  const row = await manager.getRepository(OutboxEntity).save({ subject, payload: valid as object });
  return row.id;
}
