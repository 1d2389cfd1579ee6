import { TERMINAL_RUN_STATUSES, type BuildStart } from '@pipewright/contracts';
import type { MessageBus } from '@pipewright/messaging';
import type { OutboundPolicy } from '@pipewright/platform';
import type { DataSource } from 'typeorm';
import type { RunEntity, StageRunEntity } from '../../runs/run.entity';
import { stageExecutor } from '../../stages';
import { failed, type StageContext, type StageOutcome } from '../../stages/stage-type';
import { attemptKey } from '../ids';
import { loadRun, type RunState } from '../run-tx';
import type { EngineMessage } from '../messages';
import type { RunTx } from '../run-tx';
import { advance } from '../scheduling';
import { completeStage, isCurrentAttempt } from './complete-stage.handler';

/** What a stage's start or poll came to, with the build commands it asked for (sent with its outcome, through the outbox). */
export interface Executed {
  outcome: StageOutcome | ReturnType<typeof timedOut>;
  builds: BuildStart[];
}

/** What a stage's I/O may use: the bus, child runs. */
export interface StageIo {
  ds: DataSource;
  /** The run as the transaction that started this step left it, when that was in this process. */
  preloaded?(messageId: string): RunState | undefined;
  bus: MessageBus;
  startChildRun(run: RunEntity, stage: StageRunEntity, pipelineId: string, parameters: Record<string, unknown>): Promise<string>;
  runStatus(runId: string): Promise<{ status: string; reason: string | null } | null>;
  outbound: OutboundPolicy;
}

const timedOut = (seconds: number | undefined, detail?: string) => ({ kind: 'failed' as const, reason: `timed out after ${seconds} s${detail ? ` (${detail})` : ''}`, retryable: false, timedOut: true });

/**
 * RunStage, first half: the stage's start or poll, outside any transaction, bounded by the
 * message's lease (`signal`) and the stage's timeout. Answers the run as it was read (null when it
 * is gone), on which the outcome is then applied, and what the step came to (null when there is
 * nothing to do any more).
 */
export async function executeStage(io: StageIo, msg: EngineMessage<'RunStage'>, signal: AbortSignal): Promise<{ state: RunState | null; executed: Executed | null }> {
  const state = io.preloaded?.(msg.id) ?? (await loadRun(io.ds, msg.runId));
  return { state, executed: state && (await execute(io, state, msg, signal)) };
}

async function execute(io: StageIo, { run, stages }: RunState, msg: EngineMessage<'RunStage'>, signal: AbortSignal): Promise<Executed | null> {
  const stage = stages.find((s) => s.refId === msg.refId);
  if (!stage || stage.status !== 'RUNNING' || TERMINAL_RUN_STATUSES.includes(run.status) || !isCurrentAttempt(stage, msg.payload)) return null;
  const timeoutSeconds = run.snapshot.stages.find((s) => s.refId === stage.refId)?.timeoutSeconds;
  const builds: BuildStart[] = [];
  if (stage.deadlineAt && stage.deadlineAt.getTime() <= Date.now()) return { outcome: timedOut(timeoutSeconds), builds };
  const executor = stageExecutor(stage.type)!;
  const ctx: StageContext = {
    run,
    stage,
    config: stage.config ?? {},
    attemptKey: attemptKey({ runId: run.id, refId: stage.refId, attempt: stage.attempt, generation: stage.generation }),
    timeLeftMs: stage.deadlineAt ? Math.max(0, stage.deadlineAt.getTime() - Date.now()) : Infinity,
    signal,
    stages: new Map(stages.map((s) => [s.refId, s])),
    startChildRun: (pipelineId, parameters) => io.startChildRun(run, stage, pipelineId, parameters),
    runStatus: (runId) => io.runStatus(runId),
    request: io.bus.request.bind(io.bus),
    outbound: io.outbound,
    // Written to the outbox with the outcome, in one transaction: nothing is sent for an attempt
    // whose outcome is not kept, and a NATS outage only delays it (a repeat is the same build).
    startBuild: async (command: BuildStart) => void builds.push(command),
  };
  let outcome: StageOutcome;
  try {
    outcome = await boundedBy(signal, stage.state.__started && executor.poll ? executor.poll(ctx) : executor.start(ctx));
  } catch (err) {
    if (signal.aborted) return null; // the lease is gone: whatever the I/O comes to is not this worker's to apply
    outcome = failed(`${stage.type} failed: ${(err as Error).message}`, true);
  }
  // The stage's own timeout wins over whatever the attempt ran into.
  if (outcome.kind === 'failed' && stage.deadlineAt && stage.deadlineAt.getTime() <= Date.now()) return { outcome: timedOut(timeoutSeconds, outcome.reason), builds };
  return { outcome, builds };
}

/**
 * Settles as `work` does, or rejects with the signal's reason as soon as it aborts: a stage's I/O
 * (a Kubernetes call, a git fetch, a NATS request, a child run's creation) cannot keep the handler
 * past its lease, whether or not the stage type passes the signal on to what it calls.
 */
export function boundedBy<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

/** RunStage, second half: applies the outcome in the run's transaction (a stale or repeated one is dropped). */
export async function applyStageOutcome(t: RunTx, msg: EngineMessage<'RunStage'>, executed: Executed | null): Promise<void> {
  const stage = await t.stage(msg.refId!);
  if (!executed || !stage || stage.status !== 'RUNNING' || t.ended || !isCurrentAttempt(stage, msg.payload)) return;
  const { outcome } = executed;
  for (const command of executed.builds) await t.outbox('cmd.builds.build.start.v1', command);
  const ref = { attempt: stage.attempt, generation: stage.generation };
  switch (outcome.kind) {
    case 'running': {
      await t.setStage(stage, { state: { ...outcome.state, __started: true } });
      if (outcome.retryAfterMs === null) return; // completed by a message (a build event) or its timeout
      const untilDeadline = stage.deadlineAt ? stage.deadlineAt.getTime() - Date.now() : Infinity;
      return t.enqueue('RunStage', stage.refId, ref, Math.max(0, Math.min(outcome.retryAfterMs, untilDeadline)));
    }
    case 'waiting':
      await t.setStage(stage, { status: 'WAITING', state: { ...stage.state, __started: true, prompt: outcome.prompt } });
      return advance(t);
    case 'succeeded':
      return completeStage(t, stage, { kind: 'succeeded', outputs: outcome.outputs, skipDownstream: outcome.skipDownstream });
    case 'failed':
      return completeStage(t, stage, outcome, {}, { workMayGoOn: !('timedOut' in outcome) });
  }
}
