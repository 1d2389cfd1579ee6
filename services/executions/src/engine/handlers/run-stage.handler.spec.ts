import type { RunEntity, StageRunEntity } from '../../runs/run.entity';
import type { EngineMessage } from '../messages';
import { boundedBy, executeStage, type StageIo } from './run-stage.handler';

/** A RUN_PIPELINE stage that has started its child and now polls it, through `io`. */
function polling(io: Partial<StageIo>): { io: StageIo; msg: EngineMessage<'RunStage'> } {
  const run = { id: 'run-1', number: 1, status: 'RUNNING', projectId: 'p', parameters: {}, artifacts: {}, snapshot: { stages: [{ refId: 'child' }] } } as unknown as RunEntity;
  const stage = { refId: 'child', type: 'RUN_PIPELINE', status: 'RUNNING', attempt: 1, generation: 0, state: { __started: true, childRunId: 'run-2' }, config: { pipelineId: 'x', waitForCompletion: true }, deadlineAt: null } as unknown as StageRunEntity;
  const msg = { id: 'm1', kind: 'RunStage', runId: run.id, refId: stage.refId, payload: { attempt: 1, generation: 0 }, attempts: 1 } as EngineMessage<'RunStage'>;
  return { msg, io: { preloaded: () => ({ run, stages: [stage] }), runStatus: async () => ({ status: 'RUNNING', reason: null }), bus: { request: async () => ({}) }, ...io } as unknown as StageIo };
}

describe('a stage step is bounded by its lease', () => {
  it('ends when the lease signal aborts, though the stage I/O it waits on never answers, and applies nothing', async () => {
    let asked = 0;
    const { io, msg } = polling({ runStatus: () => (asked++, new Promise(() => undefined)) });
    const lease = new AbortController();
    const step = executeStage(io, msg, lease.signal);
    await new Promise((r) => setImmediate(r));
    expect(asked).toBe(1); // the poll is in flight
    lease.abort(new Error('lease lost'));
    await expect(step).resolves.toMatchObject({ executed: null });
  });

  it('applies what the I/O came to while the lease holds', async () => {
    const { io, msg } = polling({ runStatus: async () => ({ status: 'SUCCEEDED', reason: null }) });
    await expect(executeStage(io, msg, new AbortController().signal)).resolves.toMatchObject({ executed: { outcome: { kind: 'succeeded', outputs: { childRunId: 'run-2', childStatus: 'SUCCEEDED' } } } });
  });

  it('boundedBy settles as its work does, or with the abort reason, whichever is first', async () => {
    const never = new Promise<number>(() => undefined);
    const c = new AbortController();
    const bounded = boundedBy(c.signal, never);
    c.abort(new Error('gone'));
    await expect(bounded).rejects.toThrow('gone');
    await expect(boundedBy(new AbortController().signal, Promise.resolve(7))).resolves.toBe(7);
    await expect(boundedBy(new AbortController().signal, Promise.reject(new Error('own')))).rejects.toThrow('own');
    const aborted = AbortSignal.abort(new Error('already'));
    await expect(boundedBy(aborted, Promise.reject(new Error('ignored')))).rejects.toThrow('already');
  });
});
