import { stageDefinition, type StageType as StageTypeName } from '@pipewright/contracts';
import { approvalStage } from './approval.stage';
import { buildStage } from './build.stage';
import { deleteStage } from './delete.stage';
import { deployStage } from './deploy.stage';
import { judgementStage } from './judgement.stage';
import { patchStage } from './patch.stage';
import { preconditionStage } from './precondition.stage';
import { rolloutUndoStage } from './rollout-undo.stage';
import { runPipelineStage } from './run-pipeline.stage';
import { scaleStage } from './scale.stage';
import type { StageType, StageTypeOf } from './stage-type';
import { webhookStage } from './webhook.stage';

/** Every stage type of the contracts with its executor: a type added there and not here fails the type check. */
const executors: { [T in StageTypeName]: StageTypeOf<T> } = {
  SOURCE_GITHUB: buildStage('SOURCE_GITHUB'),
  SOURCE_GITLAB: buildStage('SOURCE_GITLAB'),
  BUILD_JENKINS: buildStage('BUILD_JENKINS'),
  BUILD_HOSTED: buildStage('BUILD_HOSTED'),
  BAKE_MANIFEST: buildStage('BAKE_MANIFEST'),
  DEPLOY: deployStage,
  PATCH: patchStage,
  SCALE: scaleStage,
  ROLLOUT_UNDO: rolloutUndoStage,
  DELETE: deleteStage,
  WEBHOOK: webhookStage,
  JUDGEMENT: judgementStage,
  PRECONDITION: preconditionStage,
  RUN_PIPELINE: runPipelineStage,
  APPROVAL: approvalStage,
};

/** The executor of a stage type, or null for a type this version does not know (the engine fails the stage, saying so). */
export function stageExecutor(type: string): StageType | null {
  // The one place a config loses its static type: the engine hands each executor the config its
  // own schema (configSchemaOf) parsed, so the runtime value is the type's ConfigOf.
  const executor: StageType<never> | undefined = (executors as Partial<Record<string, StageType<never>>>)[type];
  return (executor as StageType | undefined) ?? null;
}

/** The stage's config schema (its contract's), to parse the config once expressions are evaluated. */
export function configSchemaOf(type: string) {
  return stageDefinition(type).config;
}

export const executableStageTypes = Object.keys(executors);
