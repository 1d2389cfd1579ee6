import { z } from 'zod';
import { defineStage } from './define-stage';
import { namedResource, targetReference } from './kubernetes-stages';

export const patchStage = defineStage({
  type: 'PATCH',
  group: 'DEPLOYMENT',
  label: 'Patch',
  description: 'Patches a named resource (strategic merge, merge or JSON patch); waits for a workload to be stable.',
  config: z
    .object({
      ...namedResource,
      patch: z.union([z.string().min(1, 'must not be empty'), z.record(z.unknown()), z.array(z.unknown())], { errorMap: () => ({ message: 'must be a patch document (YAML/JSON text, an object, or a JSON patch array)' }) }).describe('The patch body.'),
      strategy: z.enum(['STRATEGIC', 'MERGE', 'JSON'], { errorMap: () => ({ message: 'must be STRATEGIC, MERGE or JSON' }) }).default('STRATEGIC').describe('Patch type.'),
    })
    .strict(),
  references: targetReference,
});
