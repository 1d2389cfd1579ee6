import { TERMINAL_RUN_STATUSES, type RunStatus } from '@pipewright/contracts';
import { DomainError } from '@pipewright/platform';
import { childRunIdOf } from '../engine/ids';
import { failed, running, succeeded, type StageTypeOf } from './stage-type';

const POLL_MS = 2000;

/**
 * Starts another pipeline's run, in this run's project (a pipeline of another project is refused:
 * the stage fails saying so); with waitForCompletion it ends with the child's outcome. A halt of
 * this run while it waits cancels the child.
 */
export const runPipelineStage: StageTypeOf<'RUN_PIPELINE'> = {
  type: 'RUN_PIPELINE',
  async start(ctx) {
    let childRunId = ctx.stage.state.childRunId as string | undefined;
    if (!childRunId) {
      try {
        childRunId = await ctx.startChildRun(ctx.config.pipelineId, ctx.config.parameters ?? {});
      } catch (err) {
        // Another project's pipeline, a deleted one, bad parameters: trying again changes nothing.
        if (err instanceof DomainError && err.code !== 'UNAVAILABLE') return failed(`cannot start pipeline ${ctx.config.pipelineId}: ${err.message}`, false);
        throw err;
      }
    }
    if (!ctx.config.waitForCompletion) return succeeded({ childRunId });
    return running(POLL_MS, { childRunId });
  },
  async poll(ctx) {
    const childRunId = ctx.stage.state.childRunId as string;
    const child = await ctx.runStatus(childRunId);
    if (!child) return failed(`child run ${childRunId} is gone`);
    if (child.status === 'SUCCEEDED') return succeeded({ childRunId, childStatus: child.status });
    if (TERMINAL_RUN_STATUSES.includes(child.status as RunStatus)) return failed(`child run ${childRunId} ended ${child.status}${child.reason ? `: ${child.reason}` : ''}`, false, { childRunId, childStatus: child.status });
    return running(POLL_MS, { childRunId });
  },
  async cancel({ run, stage, why, cancelRun }) {
    // The child's id follows from the attempt, so a child started just before the halt is found too.
    const childRunId = childRunIdOf({ runId: run.id, refId: stage.refId, attempt: stage.attempt, generation: stage.generation });
    await cancelRun(childRunId, `parent run ${run.number} was canceled (${why})`);
    return `its child run ${childRunId} was canceled`;
  },
};
