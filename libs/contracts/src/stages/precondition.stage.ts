import { z } from 'zod';
import { defineStage, text } from './define-stage';

export const preconditionStage = defineStage({
  type: 'PRECONDITION',
  group: 'FEATURE',
  label: 'Precondition',
  description: "Checks a judgement's chosen value against a list; when it does not hold, the stages after it are skipped.",
  config: z
    .object({
      judgementRefId: text(64).describe('refId of an upstream JUDGEMENT stage.'),
      values: z.array(text(255)).min(1, 'must list at least one value').describe('Values to compare the choice with.'),
      mode: z.enum(['MATCHED', 'UNMATCHED'], { errorMap: () => ({ message: 'must be MATCHED or UNMATCHED' }) }).default('MATCHED').describe('Hold when the choice is (MATCHED) or is not (UNMATCHED) in values.'),
    })
    .strict(),
  references: () => [],
});
