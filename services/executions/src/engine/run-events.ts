import { parseMessage, subjects, type PayloadOf } from '@pipewright/contracts';
import type { EntityManager } from 'typeorm';
import type { RunEntity, StageRunEntity } from '../runs/run.entity';

type RunSubject = 'evt.executions.run.status-changed.v1' | 'evt.executions.stage.status-changed.v1';

/**
 * One event about the run, in one statement: takes the run's next sequence, records the run as it
 * is now under it (run_history: a subscriber is shown each state, not only the newest), and
 * writes the event with that sequence to the outbox. The payload is validated first.
 */
async function emit<S extends RunSubject>(tx: EntityManager, run: RunEntity, subject: S, payload: Omit<PayloadOf<S>, 'sequence'>): Promise<void> {
  const valid = parseMessage(subject, subjects[subject].payload, { ...payload, sequence: run.sequence + 1 });
  const [{ sequence }] = await tx.query(
    `WITH r AS (UPDATE runs SET sequence = sequence + 1 WHERE id = $1 RETURNING *),
     h AS (INSERT INTO run_history (run_id, sequence, state)
           SELECT r.id, r.sequence, jsonb_build_object(
             'run', to_jsonb(r) - 'snapshot',
             'stages', (SELECT coalesce(jsonb_agg(to_jsonb(s) - 'config' - 'state' || jsonb_build_object('state', jsonb_build_object('prompt', s.state -> 'prompt')) ORDER BY s.position), '[]')
                        FROM stage_runs s WHERE s.run_id = r.id))
           FROM r),
     o AS (INSERT INTO outbox (subject, payload) SELECT $2, $3::jsonb || jsonb_build_object('sequence', r.sequence) FROM r)
     SELECT sequence FROM r`,
    [run.id, subject, JSON.stringify(valid)],
  );
  run.sequence = sequence;
}

export function emitRunEvent(tx: EntityManager, run: RunEntity): Promise<void> {
  return emit(tx, run, 'evt.executions.run.status-changed.v1', { runId: run.id, pipelineId: run.pipelineId, number: run.number, status: run.status, reason: run.reason, at: new Date().toISOString() });
}

export function emitStageEvent(tx: EntityManager, run: RunEntity, stage: StageRunEntity): Promise<void> {
  return emit(tx, run, 'evt.executions.stage.status-changed.v1', {
    runId: run.id,
    pipelineId: run.pipelineId,
    refId: stage.refId,
    status: stage.status,
    attempt: stage.attempt,
    error: stage.error,
    at: new Date().toISOString(),
  });
}
