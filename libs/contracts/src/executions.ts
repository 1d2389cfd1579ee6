import { z } from 'zod';

export const runStatusSchema = z.enum(['QUEUED', 'RUNNING', 'WAITING', 'SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED']);
export type RunStatus = z.infer<typeof runStatusSchema>;
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED'];

export const stageStatusSchema = z.enum(['NOT_STARTED', 'RUNNING', 'WAITING', 'SUCCEEDED', 'FAILED', 'FAILED_CONTINUE', 'SKIPPED', 'CANCELED', 'STOPPED']);
export type StageStatus = z.infer<typeof stageStatusSchema>;
export const TERMINAL_STAGE_STATUSES: readonly StageStatus[] = ['SUCCEEDED', 'FAILED', 'FAILED_CONTINUE', 'SKIPPED', 'CANCELED', 'STOPPED'];

const isoDate = z.string().datetime({ offset: true });

export const runStatusChangedSchema = z.object({
  runId: z.string().uuid(),
  pipelineId: z.string().uuid(),
  number: z.number().int(),
  status: runStatusSchema,
  /** Per-run order of every run and stage event (1, 2, 3, ...). */
  sequence: z.number().int().min(1),
  reason: z.string().nullable(),
  at: isoDate,
});

export const stageStatusChangedSchema = z.object({
  runId: z.string().uuid(),
  pipelineId: z.string().uuid(),
  refId: z.string(),
  status: stageStatusSchema,
  attempt: z.number().int(),
  sequence: z.number().int().min(1),
  error: z.string().nullable(),
  at: isoDate,
});
