import type { StageRunEntity } from '../runs/run.entity';
import { stageExecutor } from '../stages';
import type { RunTx } from './run-tx';

/**
 * Tells a running or waiting stage's type that the run no longer wants it (StageType.cancel): a
 * build is told to stop, a child run is cancelled, a rollout is left as it is. Both happen in this
 * transaction (outbox, queue). Answers what was done or left behind, for the stage's error.
 */
export async function cancelStageWork(t: RunTx, stage: StageRunEntity, why: string): Promise<string | undefined> {
  const executor = stageExecutor(stage.type);
  if (!executor?.cancel || stage.status !== 'RUNNING') return undefined;
  return executor.cancel({
    run: t.run,
    stage,
    why,
    cancelBuild: (buildRequestId, reason) => t.outbox('cmd.builds.build.cancel.v1', { buildRequestId, reason }),
    cancelRun: (runId, reason) => t.enqueueFor(runId, 'CancelRun', null, { reason }),
  });
}

/** Cancels the stages still running or waiting (each told through cancelStageWork) and skips those not started. */
export async function haltStages(t: RunTx, except: string | null, why: string): Promise<void> {
  for (const s of await t.stages()) {
    if (s.refId === except) continue;
    if (s.status === 'RUNNING' || s.status === 'WAITING') {
      const note = await cancelStageWork(t, s, why);
      await t.setStage(s, { status: 'CANCELED', error: `canceled: ${why}${note ? `; ${note}` : ''}`, finishedAt: new Date() });
    } else if (s.status === 'NOT_STARTED') {
      await t.setStage(s, { status: 'SKIPPED', error: `not run: ${why}`, finishedAt: new Date() });
    }
  }
}
