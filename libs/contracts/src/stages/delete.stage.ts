import { z } from 'zod';
import { defineStage } from './define-stage';
import { namedResource, targetReference } from './kubernetes-stages';

export const deleteStage = defineStage({
  type: 'DELETE',
  group: 'DEPLOYMENT',
  label: 'Delete',
  description: 'Deletes a named resource with a propagation policy; one already gone succeeds with a note.',
  config: z
    .object({
      ...namedResource,
      propagationPolicy: z.enum(['FOREGROUND', 'BACKGROUND', 'ORPHAN'], { errorMap: () => ({ message: 'must be FOREGROUND, BACKGROUND or ORPHAN' }) }).default('BACKGROUND').describe('What happens to dependents (cascade).'),
    })
    .strict(),
  references: targetReference,
});
