import { failed, succeeded, type StageType } from './stage-type';

/** Compares a judgement's chosen value with a list; when it does not hold, the stages after it are skipped. */
export const preconditionStage: StageType = {
  type: 'PRECONDITION',
  async start({ config, stages }) {
    const refId = config.judgementRefId as string;
    const judgement = stages.get(refId);
    if (!judgement || judgement.status !== 'SUCCEEDED') return failed(`judgement "${refId}" has not succeeded (it is ${judgement?.status ?? 'missing'})`);
    const value = (judgement.outputs?.value as string | null | undefined) ?? null;
    const inList = value !== null && (config.values as string[]).includes(value);
    const holds = config.mode === 'UNMATCHED' ? !inList : inList;
    return succeeded({ holds, value, mode: config.mode }, !holds);
  },
};
