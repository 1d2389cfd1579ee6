import { z } from 'zod';

const artifactName = z.string({ invalid_type_error: 'must be a string' }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be an artifact name: letters, digits, ".", "_" and "-"');

/** Artifacts that must exist before the stage starts. */
export const startConditionSchema = z
  .object({
    artifacts: z.array(artifactName).min(1, 'must list at least one artifact'),
    onMissing: z.enum(['SKIP', 'FAIL'], { errorMap: () => ({ message: 'must be SKIP or FAIL' }) }).default('FAIL'),
  })
  .strict();

/** Outputs of the stage that become named artifacts for later stages. */
export const endConditionSchema = z
  .object({
    artifacts: z
      .array(
        z
          .object({
            name: artifactName,
            from: z.string({ required_error: 'is required (an output path, e.g. image)' }).regex(/^[A-Za-z0-9_.[\]-]+$/, 'must be an output path such as image or resources[0].name'),
          })
          .strict(),
      )
      .min(1, 'must list at least one artifact'),
  })
  .strict();

export type StartCondition = z.infer<typeof startConditionSchema>;
export type EndCondition = z.infer<typeof endConditionSchema>;
