import { runOutcome, schedule, type GraphStage } from './graph';
import { evaluate, ExpressionError, type ExpressionScope } from './expressions';
import { unmetStartCondition } from './conditions';
import { completeStage } from './handlers/complete-stage.handler';
import { startWaitingRuns } from './handlers/start-waiting-runs.handler';
import type { RunTx } from './run-tx';
import { configSchemaOf, executableStageTypes, stageExecutor } from '../stages';
import type { RunEntity, StageRunEntity } from '../runs/run.entity';

export function graphOf(t: RunTx, stages: StageRunEntity[]): GraphStage[] {
  return stages.map((s) => ({ refId: s.refId, dependsOn: t.doc(s.refId).dependsOn, status: s.status, blocksDownstream: s.skipDownstream }));
}

export function scopeOf(run: RunEntity, stages: StageRunEntity[]): ExpressionScope {
  return {
    parameters: run.parameters,
    stages: Object.fromEntries(stages.map((s) => [s.refId, { status: s.status, outputs: s.outputs ?? {} }])),
    artifacts: run.artifacts,
    run: { id: run.id, number: run.number },
  };
}

/** Starts (or skips) every stage that can move, then ends the run when nothing can. */
export async function advance(t: RunTx): Promise<void> {
  if (t.ended) return;
  const stages = await t.stages();
  for (let changed = true; changed; ) {
    changed = false;
    const { start, skip } = schedule(graphOf(t, stages));
    for (const refId of skip) {
      await t.setStage(stages.find((s) => s.refId === refId)!, { status: 'SKIPPED', finishedAt: new Date(), error: 'skipped: a stage before it did not let it run' });
      changed = true;
    }
    for (const refId of start) {
      // A stage that failed as it started went through completeStage, whose own advance has done the rest.
      if (await startStage(t, stages.find((s) => s.refId === refId)!)) return;
      changed = true;
    }
  }
  const outcome = runOutcome(graphOf(t, stages));
  if (outcome) {
    const failedStage = stages.find((s) => s.status === 'FAILED');
    await t.setRunStatus(outcome, outcome === 'FAILED' && failedStage ? `stage "${failedStage.refId}" failed: ${failedStage.error ?? ''}` : null);
    await startWaitingRuns(t, t.run.pipelineId);
  } else {
    const waitingNow = stages.some((s) => s.status === 'WAITING');
    const busy = stages.some((s) => s.status === 'RUNNING');
    if (waitingNow && !busy && t.run.status === 'RUNNING') await t.setRunStatus('WAITING');
    else if ((busy || !waitingNow) && t.run.status === 'WAITING') await t.setRunStatus('RUNNING');
  }
}

/**
 * Start condition, expressions, the config parsed by the type's schema, then RUNNING with a
 * RunStage message (and, with a timeout, a CompleteStage due at the deadline); or a clear failure
 * through completeStage. True when the stage ended at once (completeStage advanced the run itself).
 */
async function startStage(t: RunTx, stage: StageRunEntity): Promise<boolean> {
  const doc = t.doc(stage.refId);
  const now = new Date();
  const unmet = unmetStartCondition(doc, t.run.artifacts);
  if (unmet?.onMissing === 'SKIP') {
    await t.setStage(stage, { status: 'SKIPPED', error: unmet.reason, finishedAt: now });
    return false;
  }
  const fail = async (reason: string) => {
    await completeStage(t, stage, { kind: 'failed', reason, retryable: false });
    return true;
  };
  if (unmet) return fail(unmet.reason);
  if (!stageExecutor(stage.type)) return fail(`this version of Pipewright cannot run ${stage.type} stages yet (the executions service runs ${executableStageTypes.join(', ')})`);
  let evaluated: unknown;
  try {
    evaluated = evaluate(doc.config, scopeOf(t.run, await t.stages()), `stages.${stage.refId}.config`);
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    return fail(err.message);
  }
  // Expressions may yield what the schema refuses (a URL that is not one): said here, naming the field.
  const parsed = configSchemaOf(stage.type).safeParse(evaluated);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `stages.${stage.refId}.config${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')} ${i.message}`);
    return fail(`the config, once its expressions were evaluated, is not valid: ${problems.join('; ')}`);
  }
  const deadlineAt = doc.timeoutSeconds ? new Date(now.getTime() + doc.timeoutSeconds * 1000) : null;
  await t.setStage(stage, { status: 'RUNNING', attempt: 1, config: parsed.data as Record<string, unknown>, state: {}, startedAt: now, deadlineAt, error: null });
  await t.enqueue('RunStage', stage.refId, { attempt: 1, generation: stage.generation });
  if (deadlineAt) {
    await t.enqueue(
      'CompleteStage',
      stage.refId,
      { attempt: 1, generation: stage.generation, source: 'timeout', result: { kind: 'failed', reason: `timed out after ${doc.timeoutSeconds} s`, retryable: false, timedOut: true } },
      deadlineAt.getTime() - now.getTime(),
    );
  }
  return false;
}
