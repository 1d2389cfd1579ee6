import { approvalStage } from './approval.stage';
import { bakeManifestStage } from './bake-manifest.stage';
import { buildHostedStage } from './build-hosted.stage';
import { buildJenkinsStage } from './build-jenkins.stage';
import type { StageDefinition } from './define-stage';
import { deleteStage } from './delete.stage';
import { deployStage } from './deploy.stage';
import { judgementStage } from './judgement.stage';
import { patchStage } from './patch.stage';
import { preconditionStage } from './precondition.stage';
import { rolloutUndoStage } from './rollout-undo.stage';
import { runPipelineStage } from './run-pipeline.stage';
import { scaleStage } from './scale.stage';
import { sourceGithubStage, sourceGitlabStage } from './source.stage';
import { webhookStage } from './webhook.stage';

export * from './conditions';
export * from './define-stage';

/** Every stage type; the one place a type is registered. */
export const stageDefinitions = [
  sourceGithubStage,
  sourceGitlabStage,
  buildJenkinsStage,
  buildHostedStage,
  bakeManifestStage,
  deployStage,
  patchStage,
  scaleStage,
  rolloutUndoStage,
  deleteStage,
  webhookStage,
  judgementStage,
  preconditionStage,
  runPipelineStage,
  approvalStage,
] as const;

export type StageType = (typeof stageDefinitions)[number]['type'];
export const stageTypes = stageDefinitions.map((d) => d.type) as StageType[];

const byType = new Map<string, StageDefinition>(stageDefinitions.map((d) => [d.type, d as unknown as StageDefinition]));

/** The definition of a stage type; fails loudly, listing the known types, for an unknown one. */
export function stageDefinition(type: string): StageDefinition {
  const def = byType.get(type);
  if (!def) throw new Error(`unknown stage type "${type}"; known types: ${stageTypes.join(', ')}`);
  return def;
}

export function isStageType(type: string): type is StageType {
  return byType.has(type);
}
