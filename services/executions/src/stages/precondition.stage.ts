import { failed, succeeded, type StageTypeOf } from './stage-type';

/** Compares a judgement's chosen value with a list; when it does not hold, the stages after it are skipped. */
export const preconditionStage: StageTypeOf<'PRECONDITION'> = {
  type: 'PRECONDITION',
  async start({ config, stages }) {
    const refId = config.judgementRefId;
    const judgement = stages.get(refId);
    if (!judgement || judgement.status !== 'SUCCEEDED') return failed(`judgement "${refId}" has not succeeded (it is ${judgement?.status ?? 'missing'})`);
    const value = (judgement.outputs?.value as string | null | undefined) ?? null;
    const inList = value !== null && config.values.includes(value);
    const holds = config.mode === 'UNMATCHED' ? !inList : inList;
    return succeeded({ holds, value, mode: config.mode }, !holds);
  },
};
