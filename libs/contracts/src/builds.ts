import { z } from 'zod';

/** Stage types the builds service carries out. */
export const BUILD_STAGE_TYPES = ['SOURCE_GITHUB', 'SOURCE_GITLAB', 'BUILD_JENKINS', 'BUILD_HOSTED', 'BAKE_MANIFEST'] as const;

/**
 * The nearest Source stage upstream of a Build or Bake stage (fewest dependsOn hops; on a tie, the
 * first in the pipeline) and the commit it resolved: what the stage builds when its config names
 * no repository. The graph decides this, so no end condition is needed.
 */
export const upstreamSourceSchema = z.object({
  refId: z.string(),
  repositoryId: z.string(),
  branch: z.string(),
  commit: z.string(),
});
export type UpstreamSource = z.infer<typeof upstreamSourceSchema>;

/** The executions service asks the builds service to carry out a Source, Build or Bake stage. */
export const buildStartSchema = z.object({
  /** One per stage attempt; a repeated command with the same id is the same build. */
  buildRequestId: z.string().uuid(),
  runId: z.string().uuid(),
  runNumber: z.number().int(),
  pipelineId: z.string().uuid(),
  /** The run's project (optional for commands sent before projects existed: the default project). */
  projectId: z.string().uuid().optional(),
  refId: z.string(),
  stageType: z.enum(BUILD_STAGE_TYPES),
  /** The stage config with expressions evaluated. */
  config: z.record(z.unknown()),
  parameters: z.record(z.string()),
  /** The run's artifacts so far (e.g. the upstream commit). */
  artifacts: z.record(z.unknown()),
  /** The nearest upstream Source stage's commit; absent when none is upstream (or from senders before it existed). */
  source: upstreamSourceSchema.optional(),
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

/** Statuses of a build. */
export const BUILD_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const;
export const buildStatusSchema = z.enum(BUILD_STATUSES);
export type BuildStatus = z.infer<typeof buildStatusSchema>;
export const TERMINAL_BUILD_STATUSES: readonly BuildStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELED'];

/** One build log line: its offset (0, 1, 2, ... per build), when it was written, and its (masked) text. */
export const buildLogLineSchema = z.object({ offset: z.number().int().min(0), at: z.string(), text: z.string() });
export type BuildLogLine = z.infer<typeof buildLogLineSchema>;

/**
 * Live build log lines on core NATS (`live.builds.log.<buildId>`), sent after they are stored. A
 * message with `end` says the log is complete (the build finished) and how many lines it has.
 */
export const buildLogLiveSchema = z.object({
  buildId: z.string().uuid(),
  lines: z.array(buildLogLineSchema),
  end: z.object({ status: buildStatusSchema, lineCount: z.number().int().min(0) }).optional(),
});
export type BuildLogLive = z.infer<typeof buildLogLiveSchema>;
