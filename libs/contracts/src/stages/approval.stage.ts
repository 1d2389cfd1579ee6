import { z } from 'zod';
import { defineStage, optionalText } from './define-stage';

export const approvalStage = defineStage({
  type: 'APPROVAL',
  group: 'FEATURE',
  label: 'Approval',
  description: 'Waits for a caller with the APPROVAL_ADMIN role to approve or stop the run; who and when are recorded.',
  config: z
    .object({
      description: optionalText(4096).describe('What is being approved.'),
      message: optionalText(4096).describe('The request message shown to approvers.'),
    })
    .strict(),
  references: () => [],
});
