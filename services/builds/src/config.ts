import { serviceConfigSchema } from '@pipewright/platform';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/** The builds service's environment variables (validated at boot). */
export const configSchema = serviceConfigSchema.extend({
  /** Builds this instance runs at once; the rest wait in order. 0: this instance serves the API only and runs no builds. */
  BUILDS_MAX_PARALLEL: z.coerce.number().int().min(0).max(64).default(2),
  /** Each build gets an empty directory under this one, removed when it ends. */
  BUILD_WORKSPACE_DIR: z.string().min(1).default(join(tmpdir(), 'pipewright-builds')),
  /** Names this instance; a restarted instance takes over the builds its previous life left running. */
  BUILDS_INSTANCE_ID: z.string().min(1).default(process.env.HOSTNAME || 'builds'),
  /** A running build's lease; another instance takes it over when its owner stops renewing it. */
  BUILD_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  GIT_BIN: z.string().min(1).default('git'),
  HELM_BIN: z.string().min(1).default('helm'),
  BUILDAH_BIN: z.string().min(1).default('buildah'),
  /** buildah's storage driver (vfs works everywhere, overlay is faster where the kernel allows it). */
  BUILDAH_STORAGE_DRIVER: z.string().min(1).default('vfs'),
  /** The network a hosted build's command and Dockerfile run in: none, or egress (the outside network, never this host or private addresses). */
  BUILD_NETWORK: z.enum(['none', 'egress'], { errorMap: () => ({ message: 'must be none or egress' }) }).default('egress'),
  /** The DNS resolver (an IPv4 address, not on this host) builds ask with BUILD_NETWORK=egress; unset: the host's resolv.conf. */
  BUILD_DNS: z.string().ip({ version: 'v4', message: 'must be an IPv4 address (a resolver not on this host)' }).optional(),
  /** Log lines are stored in chunks of at most this many lines (or every 200 ms). */
  BUILD_LOG_CHUNK_LINES: z.coerce.number().int().min(1).max(10_000).default(200),
  /** A log line longer than this is cut, saying so. */
  BUILD_LOG_MAX_LINE: z.coerce.number().int().min(80).max(1_000_000).default(16_384),
});
export type Config = z.infer<typeof configSchema>;
