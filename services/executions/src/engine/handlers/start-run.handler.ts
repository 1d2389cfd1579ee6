import type { EngineMessage } from '../messages';
import type { RunTx } from '../run-tx';
import { advance } from '../scheduling';
import { startWaitingRuns } from './start-waiting-runs.handler';

/** StartRun: QUEUED -> RUNNING when the pipeline's concurrency allows it and it is the oldest queued run. */
export async function handleStartRun(t: RunTx, _msg: EngineMessage<'StartRun'>): Promise<void> {
  const run = t.run;
  if (run.status !== 'QUEUED') return;
  const max = run.snapshot.maxConcurrentRuns;
  if (max) {
    await t.tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [run.pipelineId]);
    const [{ active }] = await t.tx.query(`SELECT count(*)::int AS active FROM runs WHERE pipeline_id = $1 AND status IN ('RUNNING', 'WAITING')`, [run.pipelineId]);
    const [oldest] = await t.tx.query(`SELECT id FROM runs WHERE pipeline_id = $1 AND status = 'QUEUED' ORDER BY number LIMIT 1`, [run.pipelineId]);
    if (active >= max || oldest?.id !== run.id) return; // it starts when a running one ends (StartWaitingRuns)
    // Room for more than this one (two runs ended at once, both asking for this run): the next queued one too.
    if (active + 1 < max) await startWaitingRuns(t, run.pipelineId);
  }
  await t.setRunStatus('RUNNING');
  await advance(t);
}
