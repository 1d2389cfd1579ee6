import { z } from 'zod';
import { defineStage, k8sNamespace, optionalText, resourceId, text, type StageReference } from './define-stage';

const gitFile = z
  .object({
    repositoryId: resourceId('source repository').describe('Repository holding the file.'),
    path: text(1024).describe('Path inside the repository.'),
    branch: optionalText(255).describe("Branch; default: the repository's default branch. Read at the nearest upstream Source stage's commit when that stage resolved this repository (and this branch, if given)."),
  })
  .strict();

export const bakeManifestStage = defineStage({
  type: 'BAKE_MANIFEST',
  group: 'BUILD',
  label: 'Bake (Manifest)',
  description: 'Renders a Helm chart with overrides (helm template) into a manifest artifact for Deploy.',
  config: z
    .object({
      releaseName: text(53).regex(/^(\$\{.+\}|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/, 'must be a Helm release name: lower-case letters, digits and "-"').describe('Release (chart) name.'),
      namespace: k8sNamespace.describe('Namespace the chart is rendered for.'),
      template: z
        .discriminatedUnion('source', [
          z
            .object({
              source: z.literal('GIT_FILE').describe('The chart is a directory in a source repository.'),
              repositoryId: resourceId('source repository').describe('Repository holding the chart.'),
              path: text(1024).describe('Chart directory in the repository.'),
              branch: optionalText(255).describe("Branch; default: the repository's default branch. Read at the nearest upstream Source stage's commit when that stage resolved this repository (and this branch, if given)."),
            })
            .strict(),
          z
            .object({
              source: z.literal('CHART_REPOSITORY').describe('The chart comes from a chart repository.'),
              chartRepositoryId: resourceId('chart repository').describe('The chart repository (environment settings).'),
              chart: text(255).describe('Chart name in the repository.'),
              version: optionalText(64).describe('Chart version; default: the latest.'),
            })
            .strict(),
        ], { errorMap: () => ({ message: 'source must be GIT_FILE or CHART_REPOSITORY' }) })
        .describe('Where the chart comes from.'),
      valuesFile: gitFile.optional().describe('A values file from a repository (the override source).'),
      overrides: z
        .array(
          z
            .object({
              key: text(512).describe('Value path, e.g. image.tag.'),
              value: z.string({ invalid_type_error: 'must be a string' }).describe('The value; may hold expressions.'),
            })
            .strict(),
        )
        .default([])
        .describe('Values set on the command line.'),
      replaceBasicType: z.boolean({ invalid_type_error: 'must be true or false' }).default(false).describe('Pass overrides with --set (typed) instead of --set-string.'),
    })
    .strict(),
  references: (c) => {
    const refs: StageReference[] = [];
    if (c.template.source === 'GIT_FILE') refs.push({ path: 'template.repositoryId', kind: 'source-repository', id: c.template.repositoryId });
    else refs.push({ path: 'template.chartRepositoryId', kind: 'chart-repository', id: c.template.chartRepositoryId });
    if (c.valuesFile) refs.push({ path: 'valuesFile.repositoryId', kind: 'source-repository', id: c.valuesFile.repositoryId });
    return refs;
  },
});
