import type { BuildStart } from '@pipewright/contracts';
import type { MessageBus } from '@pipewright/messaging';
import type { RunEntity, StageRunEntity } from '../runs/run.entity';

/** What a stage type tells the engine after start or poll. */
export type StageOutcome =
  | { kind: 'running'; retryAfterMs: number; state?: Record<string, unknown> }
  | { kind: 'waiting'; prompt: Record<string, unknown>; state?: Record<string, unknown> }
  | { kind: 'succeeded'; outputs: Record<string, unknown>; skipDownstream?: boolean }
  | { kind: 'failed'; reason: string; retryable: boolean; outputs?: Record<string, unknown> };

export const running = (retryAfterMs: number, state?: Record<string, unknown>): StageOutcome => ({ kind: 'running', retryAfterMs, state });
export const waiting = (prompt: Record<string, unknown>): StageOutcome => ({ kind: 'waiting', prompt });
export const succeeded = (outputs: Record<string, unknown> = {}, skipDownstream = false): StageOutcome => ({ kind: 'succeeded', outputs, skipDownstream });
export const failed = (reason: string, retryable = false, outputs?: Record<string, unknown>): StageOutcome => ({ kind: 'failed', reason, retryable, outputs });

/** What a stage sees: its run, its own row (config evaluated) and helpers the engine lends it. */
export interface StageContext {
  run: RunEntity;
  stage: StageRunEntity;
  /** The stage's config with expressions evaluated. */
  config: Record<string, unknown>;
  /** Time left before the stage's timeout (Infinity without one); I/O must not outlast it. */
  timeLeftMs: number;
  /** The other stages of the run, by refId, as they are now. */
  stages: Map<string, StageRunEntity>;
  /** Starts a child run (RUN_PIPELINE); returns its id. */
  startChildRun(pipelineId: string, parameters: Record<string, unknown>): Promise<string>;
  /** Sends a Source/Build/Bake stage to the builds service (repeats are dropped by JetStream). */
  startBuild(command: BuildStart): Promise<void>;
  /** Asks another service over NATS (e.g. the environments service for a target's credentials). */
  request: MessageBus['request'];
  /** Status of a run (RUN_PIPELINE polling). */
  runStatus(runId: string): Promise<{ status: string; reason: string | null } | null>;
}

/**
 * One kind of stage. `start` is called once per attempt, `poll` while it returns running.
 * Neither sleeps: long work returns running(retryAfterMs) and is polled.
 */
export interface StageType {
  type: string;
  /** Attempts before a retryable failure fails the stage, when the stage sets no retry. */
  defaultRetry?: { maxAttempts: number; backoffSeconds: number };
  start(ctx: StageContext): Promise<StageOutcome>;
  poll?(ctx: StageContext): Promise<StageOutcome>;
  /** Added to the stage's error when a cancelled run stops it while it runs (what was left behind). */
  cancelNote?: string;
}
