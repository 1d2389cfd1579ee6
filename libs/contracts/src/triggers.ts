import { z } from 'zod';

/** What starts a run by itself (ARCHITECTURE section 3, triggers). */
export const triggerTypeSchema = z.enum(['GIT_PUSH', 'GIT_TAG', 'IMAGE_PUSH', 'CRON', 'PIPELINE', 'WEBHOOK']);
export type TriggerType = z.infer<typeof triggerTypeSchema>;

const isoDate = z.string().datetime({ offset: true });

/** What a run records of the trigger that started it (`Run.trigger`). */
export const runTriggerSchema = z.object({
  type: triggerTypeSchema,
  triggerId: z.string().uuid(),
  deliveryId: z.string().uuid(),
  /** One line for people, e.g. "push to main by alice: abc1234". */
  summary: z.string().max(500),
});
export type RunTrigger = z.infer<typeof runTriggerSchema>;

/**
 * Start a run of a pipeline for a trigger's delivery. `runId` is chosen by the triggers service
 * (so the delivery names its run before the run exists): a repeated command finds the run and
 * starts nothing. Parameters are checked against the pipeline's when the run is made.
 */
export const runStartSchema = z.object({
  runId: z.string().uuid(),
  pipelineId: z.string().uuid(),
  projectId: z.string().uuid(),
  parameters: z.record(z.string()),
  /** Named run artifacts the run starts with (git/commit, docker/image). */
  artifacts: z.record(z.unknown()),
  trigger: runTriggerSchema,
  /** Who the run is made for: the trigger's creator. */
  by: z.string().min(1),
  at: isoDate,
});
export type RunStart = z.infer<typeof runStartSchema>;

/** A run start the executions service refused (the pipeline is gone, a parameter is wrong): the delivery is REJECTED with why. */
export const runStartRefusedSchema = z.object({
  runId: z.string().uuid(),
  triggerId: z.string().uuid(),
  deliveryId: z.string().uuid(),
  reason: z.string(),
  at: isoDate,
});
