import { TERMINAL_RUN_STATUSES, type RunStatus } from '@pipewright/contracts';
import { DomainError } from '@pipewright/platform';
import { failed, running, succeeded, type StageType } from './stage-type';

const POLL_MS = 2000;

/**
 * Starts another pipeline's run, in this run's project (a pipeline of another project is refused:
 * the stage fails saying so); with waitForCompletion it ends with the child's outcome.
 */
export const runPipelineStage: StageType = {
  type: 'RUN_PIPELINE',
  async start(ctx) {
    let childRunId = ctx.stage.state.childRunId as string | undefined;
    if (!childRunId) {
      try {
        childRunId = await ctx.startChildRun(ctx.config.pipelineId as string, (ctx.config.parameters as Record<string, unknown>) ?? {});
      } catch (err) {
        // Another project's pipeline, a deleted one, bad parameters: trying again changes nothing.
        if (err instanceof DomainError && err.code !== 'UNAVAILABLE') return failed(`cannot start pipeline ${String(ctx.config.pipelineId)}: ${err.message}`, false);
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
};
