import { z } from 'zod';

/** Stage types the builds service carries out. */
export const BUILD_STAGE_TYPES = ['SOURCE_GITHUB', 'SOURCE_GITLAB', 'BUILD_JENKINS', 'BUILD_HOSTED', 'BAKE_MANIFEST'] as const;

/** The executions service asks the builds service to carry out a Source, Build or Bake stage. */
export const buildStartSchema = z.object({
  /** One per stage attempt; a repeated command with the same id is the same build. */
  buildRequestId: z.string().uuid(),
  runId: z.string().uuid(),
  runNumber: z.number().int(),
  pipelineId: z.string().uuid(),
  refId: z.string(),
  stageType: z.enum(BUILD_STAGE_TYPES),
  /** The stage config with expressions evaluated. */
  config: z.record(z.unknown()),
  parameters: z.record(z.string()),
  /** The run's artifacts so far (e.g. the upstream commit). */
  artifacts: z.record(z.unknown()),
});

export const buildCancelSchema = z.object({ buildRequestId: z.string().uuid(), reason: z.string() });

export const buildFinishedSchema = z.object({
  buildRequestId: z.string().uuid(),
  runId: z.string().uuid(),
  refId: z.string(),
  status: z.enum(['SUCCEEDED', 'FAILED', 'CANCELED']),
  outputs: z.record(z.unknown()).default({}),
  error: z.string().nullable().default(null),
  buildId: z.string().nullable().default(null),
});
export type BuildStart = z.infer<typeof buildStartSchema>;
export type BuildFinished = z.infer<typeof buildFinishedSchema>;
