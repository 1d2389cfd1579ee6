import { approversOf, describeApprovers } from '../runs/approvers';
import { waiting, type StageTypeOf } from './stage-type';

/**
 * Waits for `approve(...)` by one of the stage's approvers (by default an APPROVAL_ADMIN of the
 * run's project); the prompt says who may decide, and who did and when is recorded on the stage.
 */
export const approvalStage: StageTypeOf<'APPROVAL'> = {
  type: 'APPROVAL',
  async start({ run, stage, config }) {
    // From the frozen revision, as `approve` checks them (see approversOf).
    const approvers = approversOf(run.snapshot.stages.find((s) => s.refId === stage.refId)?.config);
    return waiting({
      description: config.description ?? null,
      message: config.message ?? null,
      approvers: { projectId: run.projectId, role: approvers.role, subjects: approvers.subjects, who: describeApprovers(approvers) },
    });
  },
};
