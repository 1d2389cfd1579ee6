import { z } from 'zod';

/** Kinds of environment resource, as they appear in subjects (`evt.environments.<kind>.changed.v1`). */
export const environmentKinds = ['source-repository', 'build-tool', 'image-registry', 'chart-repository', 'deployment-target', 'secret'] as const;
export const environmentKindSchema = z.enum(environmentKinds);
export type EnvironmentKind = z.infer<typeof environmentKindSchema>;

const base = { id: z.string().uuid(), name: z.string() };

/** What `rpc.environments.<kind>.resolve` answers: the resource with its secrets decrypted. */
export const resolvedSourceRepositorySchema = z.object({
  ...base,
  provider: z.enum(['GITHUB', 'GITLAB']),
  url: z.string(),
  defaultBranch: z.string(),
  token: z.string().nullable(),
});
export const resolvedBuildToolSchema = z.object({
  ...base,
  kind: z.literal('JENKINS'),
  url: z.string(),
  username: z.string().nullable(),
  apiToken: z.string().nullable(),
});
export const resolvedImageRegistrySchema = z.object({
  ...base,
  url: z.string(),
  namespace: z.string().nullable(),
  insecure: z.boolean(),
  username: z.string().nullable(),
  password: z.string().nullable(),
});
export const resolvedChartRepositorySchema = z.object({
  ...base,
  url: z.string(),
  username: z.string().nullable(),
  password: z.string().nullable(),
});
export const resolvedDeploymentTargetSchema = z.object({
  ...base,
  apiServerUrl: z.string(),
  caCertificate: z.string().nullable(),
  insecureSkipTlsVerify: z.boolean(),
  token: z.string().nullable(),
  clientCertificate: z.string().nullable(),
  clientKey: z.string().nullable(),
  defaultNamespace: z.string(),
});
export type ResolvedSourceRepository = z.infer<typeof resolvedSourceRepositorySchema>;
export type ResolvedBuildTool = z.infer<typeof resolvedBuildToolSchema>;
export type ResolvedImageRegistry = z.infer<typeof resolvedImageRegistrySchema>;
export type ResolvedChartRepository = z.infer<typeof resolvedChartRepositorySchema>;
export type ResolvedDeploymentTarget = z.infer<typeof resolvedDeploymentTargetSchema>;

/** A Secret with its value (`rpc.environments.secret.resolve`). */
export const resolvedSecretSchema = z.object({ ...base, value: z.string() });
export type ResolvedSecret = z.infer<typeof resolvedSecretSchema>;

/** How a stage names a secret: `${secrets.NAME}`. */
export const secretNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,99}$/, 'must be letters, digits and "_", not starting with a digit');

/**
 * The values of the secrets a running stage names, in its run's project
 * (`rpc.environments.secret.values`); a name the project has no secret for is NOT_FOUND naming it.
 */
export const secretValuesRequestSchema = z.object({ projectId: z.string().uuid(), names: z.array(secretNameSchema).min(1).max(50) });
export const secretValuesReplySchema = z.object({ values: z.record(z.string()) });

/** With projectId, a resource of another project resolves to an error naming it (isolation). */
export const resolveRequestSchema = z.object({ id: z.string().uuid(), projectId: z.string().uuid().optional() });

/** The image registry whose URL has this host[:port] (credentials for pulling tags at deploy time). */
export const registryForHostRequestSchema = z.object({ host: z.string().min(1).max(255), projectId: z.string().uuid().optional() });
export const registryForHostReplySchema = z.object({ registry: resolvedImageRegistrySchema.nullable() });

/** Which pipelines use an environment resource (answered by the pipelines service). */
export const referencesRequestSchema = z.object({ kind: environmentKindSchema, id: z.string().uuid() });
export const referencesReplySchema = z.object({
  pipelines: z.array(z.object({ id: z.string(), name: z.string() })),
});
