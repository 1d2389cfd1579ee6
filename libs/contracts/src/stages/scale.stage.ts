import { z } from 'zod';
import { defineStage } from './define-stage';
import { namedResource, targetReference, wholeNumber } from './kubernetes-stages';

export const scaleStage = defineStage({
  type: 'SCALE',
  group: 'DEPLOYMENT',
  label: 'Scale',
  description: 'Sets the replicas of a workload through its scale subresource and waits for it to be stable.',
  config: z.object({ ...namedResource, replicas: wholeNumber(0, 10000).describe('Desired replicas.') }).strict(),
  references: targetReference,
});
