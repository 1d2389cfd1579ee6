import type { BuildStart, StageType as StageTypeName, stageDefinitions } from '@pipewright/contracts';
import type { MessageBus } from '@pipewright/messaging';
import type { OutboundPolicy } from '@pipewright/platform';
import type { z } from 'zod';
import type { RunEntity, StageRunEntity } from '../runs/run.entity';

/** What a stage type tells the engine after start or poll. */
export type StageOutcome =
  /** Still going: polled again after `retryAfterMs`, or, when null, completed by a message (a build event). */
  | { kind: 'running'; retryAfterMs: number | null; state?: Record<string, unknown> }
  | { kind: 'waiting'; prompt: Record<string, unknown>; state?: Record<string, unknown> }
  | { kind: 'succeeded'; outputs: Record<string, unknown>; skipDownstream?: boolean }
  | { kind: 'failed'; reason: string; retryable: boolean; outputs?: Record<string, unknown> };

export const running = (retryAfterMs: number, state?: Record<string, unknown>): StageOutcome => ({ kind: 'running', retryAfterMs, state });
/** Running until a message completes it (no polling): the stage's timeout still applies. */
export const awaitingCompletion = (state?: Record<string, unknown>): StageOutcome => ({ kind: 'running', retryAfterMs: null, state });
export const waiting = (prompt: Record<string, unknown>): StageOutcome => ({ kind: 'waiting', prompt });
export const succeeded = (outputs: Record<string, unknown> = {}, skipDownstream = false): StageOutcome => ({ kind: 'succeeded', outputs, skipDownstream });
export const failed = (reason: string, retryable = false, outputs?: Record<string, unknown>): StageOutcome => ({ kind: 'failed', reason, retryable, outputs });

/** The config type of a stage type: its contract schema's output (defaults applied). */
export type ConfigOf<T extends StageTypeName> = z.output<Extract<(typeof stageDefinitions)[number], { type: T }>['config']>;

/** What a stage sees: its run, its own row and helpers the engine lends it. */
export interface StageContext<C = unknown> {
  run: RunEntity;
  stage: StageRunEntity;
  /** The stage's config with expressions evaluated, parsed by its contract schema. */
  config: C;
  /** `run/ref/attempt` (with the restart generation): the root of every key this attempt derives. */
  attemptKey: string;
  /** Time left before the stage's timeout (Infinity without one); I/O must not outlast it. */
  timeLeftMs: number;
  /** Aborted when the engine's lease on this attempt is lost or the service stops: I/O must end. */
  signal: AbortSignal;
  /** The other stages of the run, by refId, as they are now. */
  stages: Map<string, StageRunEntity>;
  /** Starts a child run (RUN_PIPELINE), once per attempt; returns its id. */
  startChildRun(pipelineId: string, parameters: Record<string, unknown>): Promise<string>;
  /** Sends a Source/Build/Bake stage to the builds service (repeats are dropped by JetStream). */
  startBuild(command: BuildStart): Promise<void>;
  /** Asks another service over NATS (e.g. the environments service for a target's credentials). */
  request: MessageBus['request'];
  /** Status of a run (RUN_PIPELINE polling). */
  runStatus(runId: string): Promise<{ status: string; reason: string | null } | null>;
  /** What a URL the pipeline gives may reach (OUTBOUND_ALLOW): calls go through outboundFetch with it. */
  outbound: OutboundPolicy;
}

/**
 * What a stage sees when the run halts while it runs or waits (a user's cancel, a FAIL_PIPELINE
 * or STOP halt, its own timeout). Both actions happen in the halting transaction (outbox / queue).
 */
export interface CancelContext {
  run: RunEntity;
  stage: StageRunEntity;
  why: string;
  cancelBuild(buildRequestId: string, reason: string): Promise<void>;
  cancelRun(runId: string, reason: string): Promise<void>;
}

/**
 * One kind of stage. `start` is called once per attempt, `poll` while it returns running, and
 * `cancel` on every halt of a stage that runs or waits; it answers what it did or left behind
 * (added to the stage's error). Neither sleeps: long work returns running(retryAfterMs).
 */
export interface StageType<C = unknown> {
  type: StageTypeName;
  /** Attempts before a retryable failure fails the stage, when the stage sets no retry. */
  defaultRetry?: { maxAttempts: number; backoffSeconds: number };
  start(ctx: StageContext<C>): Promise<StageOutcome>;
  poll?(ctx: StageContext<C>): Promise<StageOutcome>;
  cancel?(ctx: CancelContext): Promise<string | undefined>;
}

/** A stage type whose config is its contract's: what stages/index.ts requires of each type. */
export type StageTypeOf<T extends StageTypeName> = StageType<ConfigOf<T>> & { type: T };
