import { z } from 'zod';
import { defineStage, optionalText, text } from './define-stage';

export const judgementStage = defineStage({
  type: 'JUDGEMENT',
  group: 'FEATURE',
  label: 'Judgement',
  description: 'Waits for a person to continue or stop the run, optionally choosing one of the options.',
  config: z
    .object({
      description: optionalText(4096).describe('What the judge should consider.'),
      options: z
        .array(text(255))
        .max(50, 'must have at most 50 options')
        .default([])
        .refine((o) => new Set(o).size === o.length, { message: 'must not repeat an option' })
        .describe('Choices offered to the judge; the chosen one is an output.'),
    })
    .strict(),
  references: () => [],
});
