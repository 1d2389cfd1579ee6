import { z } from 'zod';
import { defineStage, k8sNamespace, optionalText, resourceId, text, type StageReference } from './define-stage';

export const deployStage = defineStage({
  type: 'DEPLOY',
  group: 'DEPLOYMENT',
  label: 'Deploy',
  description: 'Applies manifests (server-side apply) and waits until the workloads are stable.',
  config: z
    .object({
      targetId: resourceId('deployment target').describe('The Kubernetes cluster.'),
      namespace: k8sNamespace.optional().describe("Namespace; default: the manifest's, else the target's default."),
      manifest: optionalText(2 * 1024 * 1024).describe('Manifest text: one or more YAML documents.'),
      manifestArtifact: optionalText(255).describe('Name of a manifest artifact from an earlier stage (e.g. a bake).'),
      manifestFile: z
        .object({
          repositoryId: resourceId('source repository').describe('Repository holding the manifest.'),
          path: text(1024).describe('Path of the YAML file in the repository.'),
          branch: optionalText(255).describe("Branch; default: the repository's default branch."),
        })
        .strict()
        .optional()
        .describe('A manifest file from a source repository.'),
      stableTimeoutSeconds: z.number({ invalid_type_error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(86400, 'must be at most 86400').default(600).describe('How long to wait for the workloads to become stable.'),
    })
    .strict()
    .superRefine((c, ctx) => {
      const given = [c.manifest, c.manifestArtifact, c.manifestFile].filter((v) => v !== undefined && v !== '').length;
      if (given !== 1) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['manifest'], message: `give exactly one of manifest, manifestArtifact or manifestFile (got ${given})` });
      }
    }),
  references: (c) => {
    const refs: StageReference[] = [{ path: 'targetId', kind: 'deployment-target', id: c.targetId }];
    if (c.manifestFile) refs.push({ path: 'manifestFile.repositoryId', kind: 'source-repository', id: c.manifestFile.repositoryId });
    return refs;
  },
});
