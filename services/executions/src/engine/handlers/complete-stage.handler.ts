import type { StageStatus } from '@pipewright/contracts';
import type { StageRunEntity } from '../../runs/run.entity';
import { stageExecutor } from '../../stages';
import { applyEndCondition, capOutputs } from '../conditions';
import { cancelStageWork, haltStages } from '../halting';
import { buildRequestIdOf } from '../ids';
import type { EngineMessage, StageResult } from '../messages';
import type { RunTx } from '../run-tx';
import { advance } from '../scheduling';

/**
 * The one way a stage ends, whoever reported it (its own start or poll, a build event, a decision,
 * its timeout): retry, timeout, end condition, failure policy and artifacts apply the same way to
 * every stage type, then the graph moves on.
 * - A retryable failure with attempts left goes back to RUNNING as the next attempt, after backoff.
 * - A timeout cancels the stage's own work (StageType.cancel) and is never retried.
 * - FAIL_PIPELINE (and a STOP decision) halts the rest of the run; STOP_BRANCH skips what is below
 *   it; CONTINUE records FAILED_CONTINUE and carries on.
 */
export async function completeStage(t: RunTx, stage: StageRunEntity, result: StageResult, extra: Partial<StageRunEntity> = {}, opts: { workMayGoOn?: boolean } = {}): Promise<void> {
  const doc = t.doc(stage.refId);
  // A failure the stage's own start or poll reported (not its work: a build's end, a child run's)
  // may leave that work going (a child run whose poll failed): it is cancelled before a retry or the end.
  if (result.kind === 'failed' && opts.workMayGoOn && !result.timedOut) await cancelStageWork(t, stage, result.reason);
  if (result.kind === 'failed' && result.retryable && !result.timedOut && stage.status === 'RUNNING') {
    const retry = doc.retry ?? stageExecutor(stage.type)?.defaultRetry;
    if (retry && stage.attempt < retry.maxAttempts) {
      const backoffMs = retry.backoffSeconds * 1000 * 2 ** (stage.attempt - 1);
      const attempt = stage.attempt + 1;
      await t.setStage(stage, { ...extra, attempt, state: {}, error: `attempt ${stage.attempt} failed: ${result.reason}`, outputs: result.outputs ?? null });
      await t.enqueue('RunStage', stage.refId, { attempt, generation: stage.generation }, backoffMs);
      return;
    }
  }
  let status: StageStatus;
  let error: string | null = null;
  const outputs = capOutputs(('outputs' in result ? result.outputs : null) ?? stage.outputs ?? null, t.config.STAGE_OUTPUTS_MAX_BYTES);
  let skipDownstream = false;
  switch (result.kind) {
    case 'succeeded': {
      status = 'SUCCEEDED';
      skipDownstream = result.skipDownstream ?? false;
      const end = applyEndCondition(doc, outputs, t.run.artifacts);
      if (end && 'missing' in end) {
        status = 'FAILED';
        error = end.missing;
      } else if (end) {
        t.updateRun({ artifacts: end.artifacts });
      }
      break;
    }
    case 'failed': {
      status = 'FAILED';
      const tries = stage.attempt > 1 ? ` (after ${stage.attempt} attempts)` : '';
      error = `${result.reason}${tries}`;
      if (result.timedOut) {
        const note = await cancelStageWork(t, stage, error);
        if (note) error = `${error}; ${note}`;
      }
      break;
    }
    case 'stopped':
      status = 'STOPPED';
      error = result.reason;
      t.updateRun({ reason: result.reason });
      break;
    case 'canceled':
      status = 'CANCELED';
      error = result.reason;
      break;
  }
  let haltWhy: string | null = status === 'STOPPED' ? 'the run was stopped' : null;
  if (status === 'FAILED') {
    if (doc.failurePolicy === 'CONTINUE') status = 'FAILED_CONTINUE';
    else if (doc.failurePolicy === 'STOP_BRANCH') skipDownstream = true;
    else haltWhy = `stage "${stage.refId}" failed`;
  }
  await t.setStage(stage, { ...extra, status, outputs, error, skipDownstream, finishedAt: new Date() });
  if (haltWhy) await haltStages(t, stage.refId, haltWhy);
  await advance(t);
}

/** True when the message is about the stage's current attempt (a stale one, from before a retry or restart, is dropped). */
export function isCurrentAttempt(stage: StageRunEntity, ref: { attempt?: number; generation?: number }): boolean {
  return (ref.generation ?? 0) === stage.generation && (ref.attempt === undefined || ref.attempt === stage.attempt);
}

/** CompleteStage: a stage's end reported by a build event, a decision or its timeout. */
export async function handleCompleteStage(t: RunTx, msg: EngineMessage<'CompleteStage'>): Promise<void> {
  const p = msg.payload;
  const stage = await t.stage(msg.refId!);
  if (t.ended || !stage || (stage.status !== 'RUNNING' && stage.status !== 'WAITING') || (p.generation ?? 0) !== stage.generation) return;
  switch (p.source) {
    case 'timeout': {
      // One deadline for all of a stage's attempts; an earlier one (before a restart) is dropped above.
      if (!stage.deadlineAt) return;
      // Due by the database's clock a moment before the deadline by ours: look again then.
      const left = stage.deadlineAt.getTime() - Date.now();
      if (left > 0) return t.enqueue('CompleteStage', stage.refId, p, left + 10);
      return completeStage(t, stage, p.result);
    }
    case 'build':
      // Only the attempt that asked for this build, and only while it runs: the id is derived from
      // the attempt, so an answer that beats the stage's own bookkeeping still counts.
      if (stage.status !== 'RUNNING' || buildRequestIdOf({ runId: t.run.id, refId: stage.refId, attempt: stage.attempt, generation: stage.generation }) !== p.buildRequestId) return;
      return completeStage(t, stage, p.result);
    case 'decision':
      if (stage.status !== 'WAITING' || p.attempt !== stage.attempt) return;
      return completeStage(t, stage, p.result, p.decision ? { decision: p.decision } : {});
    case 'stage':
      if (!isCurrentAttempt(stage, p)) return;
      return completeStage(t, stage, p.result, {}, { workMayGoOn: true });
  }
}
