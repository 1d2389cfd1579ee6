import type { EngineMessage } from '../messages';
import type { RunTx } from '../run-tx';

/** Lets the oldest queued run of the pipeline start (a run of it ended): a StartRun for that run. */
export async function startWaitingRuns(t: RunTx, pipelineId: string): Promise<void> {
  // Not this run: its own change of status is not written until the handler's flush.
  const [next] = await t.tx.query(`SELECT id FROM runs WHERE pipeline_id = $1 AND status = 'QUEUED' AND id <> $2 ORDER BY number LIMIT 1`, [pipelineId, t.run.id]);
  if (next) await t.enqueueFor(next.id, 'StartRun', null, {});
}

/** StartWaitingRuns: the same, as a message (sent where no transaction of the pipeline's runs is at hand). */
export async function handleStartWaitingRuns(t: RunTx, msg: EngineMessage<'StartWaitingRuns'>): Promise<void> {
  await startWaitingRuns(t, msg.payload.pipelineId);
}
