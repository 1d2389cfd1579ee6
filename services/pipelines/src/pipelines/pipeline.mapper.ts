import { stageDefinition, type StageDocument } from '@pipewright/contracts';
import type { Connection } from '@pipewright/platform';
import type { PipelineRevisionEntity } from './pipeline.entity';
import type { Pipeline, PipelineRevision, Stage } from './pipeline.model';
import type { FailurePolicy } from './pipeline.model';
import type { PipelineView } from './pipeline.service';

const REF_FIELDS = {
  'deployment-target': 'deploymentTarget',
  'source-repository': 'sourceRepository',
  'build-tool': 'buildTool',
  'image-registry': 'imageRegistry',
  'chart-repository': 'chartRepository',
} as const;

export function toStage(s: StageDocument): Stage {
  const stage: Stage = { ...s, failurePolicy: s.failurePolicy as FailurePolicy, retry: s.retry && { maxAttempts: s.retry.maxAttempts, backoffSeconds: s.retry.backoffSeconds } };
  for (const field of Object.values(REF_FIELDS)) stage[field] = null;
  for (const ref of stageDefinition(s.type).references(s.config)) {
    // Secrets are named in a stage (${secrets.NAME}), never referenced by id: no field for them.
    if (ref.kind === 'pipeline' || ref.kind === 'secret') continue;
    if (!stage[REF_FIELDS[ref.kind]]) stage[REF_FIELDS[ref.kind]] = { id: ref.id };
  }
  return stage;
}

export function toPipeline({ pipeline, revision }: PipelineView): Pipeline {
  const d = revision.document;
  return {
    id: pipeline.id,
    projectId: pipeline.projectId,
    project: { id: pipeline.projectId },
    name: d.name,
    description: d.description,
    parameters: d.parameters,
    maxConcurrentRuns: d.maxConcurrentRuns ?? null,
    stages: d.stages.map(toStage),
    revision: revision.revision,
    latestRevision: pipeline.revision,
    createdAt: pipeline.createdAt,
    createdBy: pipeline.createdBy,
    updatedAt: revision.createdAt,
    updatedBy: revision.createdBy,
  };
}

export function toPipelinePage(page: Connection<PipelineView>): Connection<Pipeline> {
  return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toPipeline(e.node) })) };
}

export function toRevision(r: PipelineRevisionEntity): PipelineRevision {
  return { revision: r.revision, createdAt: r.createdAt, createdBy: r.createdBy, note: r.note, stageCount: r.document.stages.length };
}
