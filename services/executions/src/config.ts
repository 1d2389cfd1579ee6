import { serviceConfigSchema } from '@pipewright/platform';
import { z } from 'zod';

/** The executions service's environment variables (validated at boot). */
export const configSchema = serviceConfigSchema.extend({
  /** Engine worker loops in this process (0 runs the API only). */
  ENGINE_WORKERS: z.coerce.number().int().min(0).max(64).default(4),
  /** How long a claimed message stays with its worker before another may take it over (a dead worker's). */
  ENGINE_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** The backstop sweep when no NOTIFY arrives. */
  ENGINE_SWEEP_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
});
export type Config = z.infer<typeof configSchema>;
