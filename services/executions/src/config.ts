import { serviceConfigSchema } from '@pipewright/platform';
import { z } from 'zod';

/** The executions service's environment variables (validated at boot). */
export const configSchema = serviceConfigSchema.extend({
  /** Engine worker loops in this process (0 runs the API only). */
  ENGINE_WORKERS: z.coerce.number().int().min(0).max(64).default(4),
  /** How long a claimed message stays with its worker before another may take it over (a dead worker's). */
  ENGINE_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** Finished runs older than this many days are deleted ... */
  RUN_RETENTION_DAYS: z.coerce.number().min(0).max(36500).default(90),
  /** ... except the newest this many of each pipeline. */
  RUN_RETENTION_MIN_PER_PIPELINE: z.coerce.number().int().min(0).max(100000).default(20),
  RUN_RETENTION_SWEEP_MS: z.coerce.number().int().min(100).max(86_400_000).default(3_600_000),
  /** The per-event history of a run (replays for subscribers) is dropped this many hours after the run ends. */
  RUN_HISTORY_HOURS: z.coerce.number().min(0).max(87600).default(24),
  /** Stage outputs larger than this (JSON bytes) are replaced by a note saying so. */
  STAGE_OUTPUTS_MAX_BYTES: z.coerce.number().int().min(256).max(64 * 1024 * 1024).default(256 * 1024),
  /** The backstop sweep when no NOTIFY arrives. */
  ENGINE_SWEEP_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
});
export type Config = z.infer<typeof configSchema>;
