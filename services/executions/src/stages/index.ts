import { approvalStage } from './approval.stage';
import { buildStages } from './build.stage';
import { deleteStage } from './delete.stage';
import { deployStage } from './deploy.stage';
import { judgementStage } from './judgement.stage';
import { patchStage } from './patch.stage';
import { preconditionStage } from './precondition.stage';
import { rolloutUndoStage } from './rollout-undo.stage';
import { runPipelineStage } from './run-pipeline.stage';
import { scaleStage } from './scale.stage';
import type { StageType } from './stage-type';
import { webhookStage } from './webhook.stage';

const registered: StageType[] = [
  webhookStage,
  judgementStage,
  preconditionStage,
  runPipelineStage,
  approvalStage,
  ...buildStages,
  deployStage,
  patchStage,
  scaleStage,
  rolloutUndoStage,
  deleteStage,
];

const byType = new Map<string, StageType>();
for (const t of registered) {
  if (byType.has(t.type)) throw new Error(`stage type ${t.type} is registered twice`);
  byType.set(t.type, t);
}

/** The executor of a stage type, or null when this version cannot run it (the engine fails the stage, saying so). */
export function stageExecutor(type: string): StageType | null {
  return byType.get(type) ?? null;
}

export const executableStageTypes = [...byType.keys()];
