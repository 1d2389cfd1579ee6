import { z } from 'zod';
import type { EnvironmentKind } from '../environments';

export const stageGroupSchema = z.enum(['SOURCE', 'BUILD', 'DEPLOYMENT', 'FEATURE']);
export type StageGroup = z.infer<typeof stageGroupSchema>;

/** A field of a stage config that names another resource: an environment resource or a pipeline. */
export interface StageReference {
  /** Path inside the config, e.g. `targetId` or `template.repositoryId`. */
  path: string;
  kind: EnvironmentKind | 'pipeline';
  id: string;
}

export interface StageDefinition<T extends string = string, C extends z.ZodTypeAny = z.ZodTypeAny> {
  type: T;
  group: StageGroup;
  label: string;
  description: string;
  /** The config's schema; every field documented with `.describe()`. */
  config: C;
  /** The resources a (valid) config refers to. */
  references(config: z.infer<C>): StageReference[];
}

export function defineStage<T extends string, C extends z.ZodTypeAny>(def: StageDefinition<T, C>): StageDefinition<T, C> {
  return def;
}

/** Ids of environment resources and pipelines are UUIDs. */
export const resourceId = (what: string) => z.string({ required_error: `is required (the id of a ${what})` }).uuid(`must be the id of a ${what} (a UUID)`);

/** A non-empty string, trimmed; may hold `${...}` expressions evaluated when the stage starts. */
export const text = (max = 1024) =>
  z
    .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);

export const optionalText = (max = 1024) => z.string({ invalid_type_error: 'must be a string' }).trim().max(max, `must be at most ${max} characters`).optional();

/** A Kubernetes namespace, or an expression that yields one. */
export const k8sNamespace = z
  .string({ invalid_type_error: 'must be a string' })
  .refine((v) => /^\$\{.+\}$/.test(v) || /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v), {
    message: 'must be a Kubernetes namespace (lower-case letters, digits and "-", at most 63) or an expression',
  });

/** A Kubernetes resource name (DNS-1123 subdomain), or an expression. */
export const k8sName = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
  .refine((v) => /^\$\{.+\}$/.test(v) || /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(v), {
    message: 'must be a Kubernetes name (lower-case letters, digits, "-" and ".") or an expression',
  });

/** A Kubernetes kind, e.g. Deployment. */
export const k8sKind = z
  .string({ required_error: 'is required (e.g. Deployment)', invalid_type_error: 'must be a string' })
  .regex(/^[A-Z][A-Za-z0-9]*$/, 'must be a Kubernetes kind such as Deployment, StatefulSet or ConfigMap');

export const stringMap = z.record(z.string(), z.string({ invalid_type_error: 'must be a string' }), { invalid_type_error: 'must be an object of string values' });
