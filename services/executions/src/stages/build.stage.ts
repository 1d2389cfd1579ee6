import { BUILD_STAGE_TYPES, type BuildStart } from '@pipewright/contracts';
import { buildRequestIdOf } from '../engine/ids';
import { running, type StageType } from './stage-type';

/** How often a build stage wakes to check its timeout; completion arrives as a builds event. */
const CHECK_MS = 30_000;

/**
 * Source, Build and Bake stages: sent to the builds service as `cmd.builds.build.start.v1`; the
 * engine completes the stage when `evt.builds.build.finished.v1` arrives for its request id.
 */
function buildStage(type: BuildStart['stageType']): StageType {
  return {
    type,
    async start(ctx) {
      const buildRequestId = buildRequestIdOf(ctx.run.id, ctx.stage.refId, ctx.stage.attempt);
      await ctx.startBuild({
        buildRequestId,
        runId: ctx.run.id,
        runNumber: ctx.run.number,
        pipelineId: ctx.run.pipelineId,
        projectId: ctx.run.projectId,
        refId: ctx.stage.refId,
        stageType: type,
        config: ctx.config,
        parameters: ctx.run.parameters,
        artifacts: ctx.run.artifacts,
      });
      return running(CHECK_MS, { buildRequestId });
    },
    async poll(ctx) {
      return running(CHECK_MS, { buildRequestId: ctx.stage.state.buildRequestId });
    },
  };
}

export const buildStages = BUILD_STAGE_TYPES.map(buildStage);
