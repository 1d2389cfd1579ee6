import { z } from 'zod';
import { defineStage, resourceId } from './define-stage';

export const runPipelineStage = defineStage({
  type: 'RUN_PIPELINE',
  group: 'FEATURE',
  label: 'Run Pipeline',
  description: "Starts another pipeline's run; with waitForCompletion it ends with the child's outcome.",
  config: z
    .object({
      pipelineId: resourceId('pipeline').describe('The pipeline to run.'),
      parameters: z.record(z.unknown()).default({}).describe('Parameters for the child run; values may hold expressions.'),
      waitForCompletion: z.boolean({ invalid_type_error: 'must be true or false' }).default(true).describe("Wait for the child run's outcome."),
    })
    .strict(),
  references: (c) => [{ path: 'pipelineId', kind: 'pipeline', id: c.pipelineId }],
});
