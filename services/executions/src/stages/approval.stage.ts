import { waiting, type StageType } from './stage-type';

/** Waits for `approve(...)` by an APPROVAL_ADMIN; who and when are recorded on the stage. */
export const approvalStage: StageType = {
  type: 'APPROVAL',
  async start({ config }) {
    return waiting({ description: config.description ?? null, message: config.message ?? null });
  },
};
