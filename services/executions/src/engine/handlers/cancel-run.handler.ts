import { haltStages } from '../halting';
import type { EngineMessage } from '../messages';
import type { RunTx } from '../run-tx';
import { startWaitingRuns } from './start-waiting-runs.handler';

/**
 * CancelRun: stops what the run is running (each stage's type is told: builds stop, child runs are
 * cancelled, rollouts are left as they are), skips what has not started, ends the run CANCELED
 * and cancels its child runs still going (fire-and-forget ones too).
 */
export async function handleCancelRun(t: RunTx, msg: EngineMessage<'CancelRun'>): Promise<void> {
  if (t.ended) return;
  const why = msg.payload.reason;
  await haltStages(t, null, why);
  await t.setRunStatus('CANCELED', why);
  await startWaitingRuns(t, t.run.pipelineId);
  const children: { id: string }[] = await t.tx.query(`SELECT id FROM runs WHERE parent_run_id = $1 AND status IN ('QUEUED', 'RUNNING', 'WAITING')`, [t.run.id]);
  for (const { id } of children) await t.enqueueFor(id, 'CancelRun', null, { reason: `parent run ${t.run.number} was canceled` });
}
