import type { OutboundPolicy } from '@pipewright/platform';
import type { BuildNetwork } from './sandbox';
import { stageDefinitions, type BuildStart } from '@pipewright/contracts';
import type { MessageBus } from '@pipewright/messaging';

/** Where a build writes its log: each line is timestamped, masked of every secret, stored and streamed live. */
export interface BuildLog {
  /** One or more lines (split on newlines); secrets added with `secret` are masked. */
  line(text: string): void;
  /** Masks this value (a password, a token) in every line written after this call. */
  secret(value: string | null | undefined): void;
  /** Stores what was written so far; resolves once it is in the database (before saving progress past it). */
  flush(): Promise<void>;
}

/**
 * The abort reason when the service stops (not a cancel): a resumable executor leaves its external
 * work running (a Jenkins build) so that the next life of the service picks it up.
 */
export const SERVICE_STOPPING = 'the build service is stopping';
/** The abort reason when another instance took the build's lease over (after a stall): it carries on. */
export const LEASE_LOST = 'the lease of this build was lost';

/** Whether an abort hands the build over (service stopping, lease lost) rather than cancels it. */
export function isHandOver(reason: unknown): boolean {
  return reason === SERVICE_STOPPING || reason === LEASE_LOST;
}

/** Why a build was aborted, as a message (the abort reason is a string or an Error). */
export function abortReasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message || reason.name;
  if (typeof reason === 'string' && reason) return reason;
  return 'cancelled';
}

/**
 * The stage's config parsed by its schema from the contracts (defaults applied), or the build's
 * failure naming the first bad field.
 */
export function stageConfig<C>(ctx: ExecutorContext, type: BuildStart['stageType']): { config: C } | { failure: BuildResult } {
  const definition = stageDefinitions.find((d) => d.type === type)!;
  const parsed = definition.config.safeParse(ctx.command.config);
  if (parsed.success) return { config: parsed.data as C };
  const issue = parsed.error.issues[0];
  return { failure: { status: 'FAILED', error: `invalid ${type} config: ${issue.path.join('.') || '(config)'} ${issue.message}` } };
}

/** What an executor gets for one build. */
export interface ExecutorContext {
  buildId: string;
  /** Numbered per pipeline stage: 1, 2, 3, ... never reused. */
  number: number;
  /** The command from the executions service: stage type, evaluated config, parameters, artifacts. */
  command: BuildStart;
  log: BuildLog;
  /** Aborted when the run is cancelled (reason: the cancel's reason) or the service stops. */
  signal: AbortSignal;
  /** An empty directory for this build only, removed after it. */
  workspace: string;
  /** Asks another service over NATS, e.g. `rpc.environments.build-tool.resolve` for credentials. */
  request: MessageBus['request'];
  /** What the executor saved so far (resumable executors read it after a restart of the service). */
  state: Record<string, unknown>;
  /** Saves progress so a restart can resume (e.g. the Jenkins queue item, then the build number). */
  saveState(state: Record<string, unknown>): Promise<void>;
  /** Paths of the tools (from config). */
  tools: { git: string; helm: string; buildah: string; buildahStorageDriver: string };
  /** What URLs a project admin sets (Jenkins, chart repositories) may reach besides public addresses (OUTBOUND_ALLOW). */
  outbound: OutboundPolicy;
  /** The network namespace a hosted build's own code runs in (BUILD_NETWORK). */
  buildNetwork: BuildNetwork;
  /** The resolver an egress build asks (BUILD_DNS). */
  buildDns?: string;
}

export type BuildResult =
  | { status: 'SUCCEEDED'; outputs: Record<string, unknown>; warning?: string }
  | { status: 'FAILED'; error: string; outputs?: Record<string, unknown> }
  | { status: 'CANCELED'; error: string; outputs?: Record<string, unknown> };

/** One kind of build. `run` does the whole build (it may wait and poll); it never throws for an expected failure. */
export interface BuildExecutor {
  type: BuildStart['stageType'];
  /** Whether a build interrupted by a restart of the service can carry on (from `state`) rather than fail. */
  resumable: boolean;
  run(ctx: ExecutorContext): Promise<BuildResult>;
  /** Cleans up what a build that cannot be resumed left behind when the service died under it. */
  abandon?(ctx: ExecutorContext): Promise<void>;
}

/** Thrown by helpers inside an executor to end the build with a clear reason. */
export class BuildFailure extends Error {
  constructor(
    message: string,
    readonly outputs?: Record<string, unknown>,
  ) {
    super(message);
  }
}
