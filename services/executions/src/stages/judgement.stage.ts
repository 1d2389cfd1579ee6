import { waiting, type StageTypeOf } from './stage-type';

/** Waits for `judge(runId, refId, CONTINUE | STOP, value)`; the engine completes it. */
export const judgementStage: StageTypeOf<'JUDGEMENT'> = {
  type: 'JUDGEMENT',
  async start({ config }) {
    return waiting({ description: config.description ?? null, options: config.options ?? [] });
  },
};
