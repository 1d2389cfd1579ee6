import { z } from 'zod';
import { defineStage, resourceId, stringMap, text } from './define-stage';

export const buildJenkinsStage = defineStage({
  type: 'BUILD_JENKINS',
  group: 'BUILD',
  label: 'Build (Jenkins)',
  description: 'Triggers a Jenkins job with parameters, follows it and streams its console.',
  config: z
    .object({
      buildToolId: resourceId('build tool').describe('The Jenkins server (environment settings).'),
      job: text(512).describe('Job name; folders as "folder/job".'),
      parameters: stringMap.default({}).describe('Build parameters (buildWithParameters); values may hold expressions.'),
      waitForCompletion: z.boolean({ invalid_type_error: 'must be true or false' }).default(true).describe('Wait for the build to finish (else succeed once it starts).'),
      failOnUnstable: z.boolean({ invalid_type_error: 'must be true or false' }).default(false).describe('Treat an UNSTABLE build as a failure.'),
    })
    .strict(),
  references: (c) => [{ path: 'buildToolId', kind: 'build-tool', id: c.buildToolId }],
});
