import { z } from 'zod';
import { defineStage } from './define-stage';
import { namedResource, targetReference, wholeNumber } from './kubernetes-stages';

export const rolloutUndoStage = defineStage({
  type: 'ROLLOUT_UNDO',
  group: 'DEPLOYMENT',
  label: 'Rollout Undo',
  description: 'Rolls a Deployment back a number of revisions, as kubectl rollout undo does.',
  config: z.object({ ...namedResource, revisionsBack: wholeNumber(1, 100).default(1).describe('How many revisions back.') }).strict(),
  references: targetReference,
});
