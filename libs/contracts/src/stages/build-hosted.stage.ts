import { z } from 'zod';
import { defineStage, optionalText, resourceId, text } from './define-stage';

export const buildHostedStage = defineStage({
  type: 'BUILD_HOSTED',
  group: 'BUILD',
  label: 'Build (hosted)',
  description: 'Runs a build command in a build image, builds the Dockerfile and pushes the image to a registry.',
  config: z
    .object({
      buildImage: text(512).describe('Image the build command runs in, e.g. 127.0.0.1:5000/pipewright/busybox:1.35.'),
      cpu: z.number({ invalid_type_error: 'must be a number' }).positive('must be more than 0').max(64, 'must be at most 64').default(1).describe('CPU cores for the build.'),
      memoryMb: z.number({ invalid_type_error: 'must be a number' }).int('must be a whole number').min(128, 'must be at least 128').max(262144, 'must be at most 262144').default(2048).describe('Memory in MB.'),
      timeLimitMinutes: z.number({ invalid_type_error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(1440, 'must be at most 1440').default(30).describe('The build command is stopped after this many minutes.'),
      buildCommand: optionalText(65536).describe('Shell command run in the workspace before the image build; empty for none.'),
      dockerfilePath: text(1024).default('Dockerfile').describe('Dockerfile path inside the repository.'),
      contextPath: text(1024).default('.').describe('Build context directory inside the repository.'),
      registryId: resourceId('image registry').describe('Registry the image is pushed to.'),
      imageName: text(255).regex(/^(\$\{.+\}|[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*)$/, 'must be an image name: lower-case letters, digits, ".", "_", "-" and "/"').describe('Image name under the registry namespace.'),
      useTagFormat: z.boolean({ invalid_type_error: 'must be true or false' }).default(true).describe('Tag with tagFormat; otherwise with the build number.'),
      tagFormat: text(128).default('{BUILD_NUMBER}').describe('Tag format: {BUILD_NUMBER} and {COMMIT} are filled in, e.g. v1.{BUILD_NUMBER}.'),
      repositoryId: resourceId('source repository').optional().describe('Repository to build, at the tip of branch; default: the commit of the nearest upstream Source stage (no end condition needed).'),
      branch: optionalText(255).describe('Branch of repositoryId.'),
    })
    .strict()
    .superRefine((c, ctx) => {
      if (c.useTagFormat && !/\{BUILD_NUMBER\}|\{COMMIT\}/.test(c.tagFormat)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['tagFormat'], message: 'must contain {BUILD_NUMBER} or {COMMIT} so every build gets its own tag' });
      }
      if (c.branch && !c.repositoryId) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['repositoryId'], message: 'is required when branch is given' });
    }),
  references: (c) => [{ path: 'registryId', kind: 'image-registry' as const, id: c.registryId }, ...(c.repositoryId ? [{ path: 'repositoryId', kind: 'source-repository' as const, id: c.repositoryId }] : [])],
});
