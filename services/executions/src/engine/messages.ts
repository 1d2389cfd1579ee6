import type { Decision, MessageKind } from '../runs/run.entity';

/** A stage's end, as whatever reported it saw it; CompleteStage applies the same rules to all. */
export type StageResult =
  | { kind: 'succeeded'; outputs: Record<string, unknown>; skipDownstream?: boolean }
  | { kind: 'failed'; reason: string; retryable: boolean; outputs?: Record<string, unknown> | null; timedOut?: boolean }
  /** A STOP decision: the run ends STOPPED. */
  | { kind: 'stopped'; reason: string }
  /** Its build was cancelled from outside (e.g. the builds service): the stage ends CANCELED. */
  | { kind: 'canceled'; reason: string; outputs?: Record<string, unknown> | null };

/** Who reported a stage's end: the stage's own start/poll, a build event, a decision, its timeout. */
export type CompletionSource = 'stage' | 'build' | 'decision' | 'timeout';

/** The attempt a message is about; a message for an earlier attempt or generation is dropped. */
export interface AttemptRef {
  attempt: number;
  generation: number;
}

export interface Payloads {
  StartRun: Record<string, never>;
  RunStage: Partial<AttemptRef>;
  CompleteStage: AttemptRef & { source: CompletionSource; result: StageResult; decision?: Decision; buildRequestId?: string };
  CancelRun: { reason: string };
  RestartStage: { by: string };
  StartWaitingRuns: { pipelineId: string };
}

export interface EngineMessage<K extends MessageKind = MessageKind> {
  id: string;
  kind: K;
  runId: string;
  refId: string | null;
  payload: Payloads[K];
  attempts: number;
}
