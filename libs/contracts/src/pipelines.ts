import { z } from 'zod';
import { environmentKindSchema } from './environments';

/** A stored pipeline definition: what one revision holds (stage configs validated per type). */
export const parameterSchema = z
  .object({
    name: z.string({ required_error: 'is required' }).regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be an identifier: letters, digits and "_", not starting with a digit (at most 64)'),
    label: z.string().trim().max(255, 'must be at most 255 characters').optional(),
    description: z.string().trim().max(4096, 'must be at most 4096 characters').optional(),
    default: z.string({ invalid_type_error: 'must be a string' }).max(65536, 'must be at most 64 KB').optional(),
    required: z.boolean({ invalid_type_error: 'must be true or false' }).default(false),
    options: z.array(z.string().max(1024, 'must be at most 1024 characters')).max(500, 'must have at most 500 options').optional(),
  })
  .strict();

export const failurePolicySchema = z.enum(['FAIL_PIPELINE', 'STOP_BRANCH', 'CONTINUE'], { errorMap: () => ({ message: 'must be FAIL_PIPELINE, STOP_BRANCH or CONTINUE' }) });

export const stageDocumentSchema = z
  .object({
    refId: z.string({ required_error: 'is required' }).regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be 1-64 letters, digits, "_" or "-", starting with a letter or digit'),
    name: z.string({ required_error: 'is required' }).trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
    type: z.string({ required_error: 'is required' }),
    dependsOn: z.array(z.string({ invalid_type_error: 'must be a refId' })).default([]),
    config: z.record(z.unknown(), { required_error: 'is required', invalid_type_error: 'must be an object' }),
    startCondition: z.unknown().optional(),
    endCondition: z.unknown().optional(),
    failurePolicy: failurePolicySchema.default('FAIL_PIPELINE'),
    timeoutSeconds: z.number({ invalid_type_error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(7 * 86400, 'must be at most 604800 (7 days)').optional(),
    retry: z
      .object({
        maxAttempts: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100'),
        backoffSeconds: z.number().int('must be a whole number').min(0, 'must be at least 0').max(86400, 'must be at most 86400').default(10),
      })
      .strict()
      .optional(),
  })
  .strict();

export const pipelineDocumentSchema = z
  .object({
    name: z.string({ required_error: 'is required' }).trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    description: z.string().trim().max(8192, 'must be at most 8192 characters').optional(),
    parameters: z.array(parameterSchema).max(200, 'must have at most 200 parameters').default([]),
    maxConcurrentRuns: z.number({ invalid_type_error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1 (omit it for unlimited)').max(1000, 'must be at most 1000').nullish(),
    stages: z.array(stageDocumentSchema).max(500, 'must have at most 500 stages'),
  })
  .strict();

export type ParameterDocument = z.infer<typeof parameterSchema>;
export type StageDocument = z.infer<typeof stageDocumentSchema>;
export type PipelineDocument = z.infer<typeof pipelineDocumentSchema>;

export const pipelineSnapshotRequestSchema = z.object({ pipelineId: z.string().uuid(), revision: z.number().int().min(1).optional() });
export const pipelineSnapshotSchema = z.object({
  pipelineId: z.string().uuid(),
  /** The project the pipeline belongs to (a run belongs to it too). */
  projectId: z.string().uuid(),
  revision: z.number().int(),
  document: pipelineDocumentSchema,
});
export type PipelineSnapshot = z.infer<typeof pipelineSnapshotSchema>;

/** Which of these resources do not exist, and (with projectId) which belong to another project. */
export const existsRequestSchema = z.object({ refs: z.array(z.object({ kind: environmentKindSchema, id: z.string() })).max(1000), projectId: z.string().uuid().optional() });
export const existsReplySchema = z.object({
  missing: z.array(z.object({ kind: environmentKindSchema, id: z.string() })),
  /** Resources that exist but in another project than the request's projectId. */
  otherProject: z.array(z.object({ kind: environmentKindSchema, id: z.string() })).default([]),
});
