import type { BuildStart } from '@pipewright/contracts';
import { buildRequestIdOf } from '../engine/ids';
import { awaitingCompletion, type StageTypeOf } from './stage-type';
import { nearestUpstreamSource } from './upstream-source';

/**
 * Source, Build and Bake stages: sent to the builds service as `cmd.builds.build.start.v1`; a
 * CompleteStage message ends the stage when `evt.builds.build.finished.v1` arrives for its request
 * id (or its timeout does, which cancels the build).
 */
export function buildStage<T extends BuildStart['stageType']>(type: T): StageTypeOf<T> {
  return {
    type,
    async start(ctx) {
      const buildRequestId = buildRequestIdOf({ runId: ctx.run.id, refId: ctx.stage.refId, attempt: ctx.stage.attempt, generation: ctx.stage.generation });
      await ctx.startBuild({
        buildRequestId,
        runId: ctx.run.id,
        runNumber: ctx.run.number,
        pipelineId: ctx.run.pipelineId,
        projectId: ctx.run.projectId,
        refId: ctx.stage.refId,
        stageType: type,
        config: ctx.config as Record<string, unknown>,
        parameters: ctx.run.parameters,
        artifacts: ctx.run.artifacts,
        source: nearestUpstreamSource(ctx.run.snapshot.stages, ctx.stages, ctx.stage.refId) ?? undefined,
      });
      return awaitingCompletion({ buildRequestId });
    },
    async cancel({ run, stage, why, cancelBuild }) {
      await cancelBuild(buildRequestIdOf({ runId: run.id, refId: stage.refId, attempt: stage.attempt, generation: stage.generation }), why);
      return 'its build was told to stop';
    },
  };
}
