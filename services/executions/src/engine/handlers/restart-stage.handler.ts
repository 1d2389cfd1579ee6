import { TERMINAL_STAGE_STATUSES } from '@pipewright/contracts';
import { descendants } from '../graph';
import { cancelStageWork } from '../halting';
import type { EngineMessage } from '../messages';
import type { RunTx } from '../run-tx';
import { advance } from '../scheduling';

/**
 * RestartStage: runs a finished stage again with everything downstream of it. They go back to
 * NOT_STARTED in a new generation, so every key of their next attempts (build request, child run,
 * Idempotency-Key, rollout marker) is new; work still going below it is cancelled first.
 */
export async function handleRestartStage(t: RunTx, msg: EngineMessage<'RestartStage'>): Promise<void> {
  const refId = msg.refId!;
  const target = await t.stage(refId);
  if (!target || !TERMINAL_STAGE_STATUSES.includes(target.status)) return; // checked by the caller; a repeat finds it started again
  const reset = new Set([refId, ...descendants(t.run.snapshot.stages, refId)]);
  for (const s of await t.stages()) {
    if (!reset.has(s.refId)) continue;
    await cancelStageWork(t, s, `stage "${refId}" was restarted by ${msg.payload.by}`);
    await t.setStage(s, {
      status: 'NOT_STARTED',
      attempt: 0,
      generation: s.generation + 1,
      config: null,
      state: {},
      outputs: null,
      error: null,
      decision: null,
      skipDownstream: false,
      startedAt: null,
      finishedAt: null,
      deadlineAt: null,
      ...(s.refId === refId ? { restartedBy: msg.payload.by, restartedAt: new Date() } : {}),
    });
  }
  t.updateRun({ finishedAt: null, reason: null });
  if (t.run.status !== 'RUNNING' && t.run.status !== 'WAITING') await t.setRunStatus('RUNNING');
  await advance(t);
}
