import { stageDefinitions } from '@pipewright/contracts';
import type { ZodTypeDef } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';

/**
 * The kind of thing a config field holds the id of, as `"x-resource"` in the config's JSON Schema,
 * so that editors can offer a picker of the project's resources of that kind instead of a UUID box.
 */
export type ResourceKind = 'SOURCE_REPOSITORY' | 'BUILD_TOOL' | 'IMAGE_REGISTRY' | 'CHART_REPOSITORY' | 'DEPLOYMENT_TARGET' | 'PIPELINE';

/**
 * Derived from the zod definitions themselves: every id field is `resourceId(what)` (define-stage.ts),
 * a string whose uuid check says "must be the id of a <what> (a UUID)". The `what`s it is called with:
 */
export const RESOURCE_KIND_BY_WHAT: Record<string, ResourceKind> = {
  'source repository': 'SOURCE_REPOSITORY',
  'build tool': 'BUILD_TOOL',
  'image registry': 'IMAGE_REGISTRY',
  'chart repository': 'CHART_REPOSITORY',
  'deployment target': 'DEPLOYMENT_TARGET',
  pipeline: 'PIPELINE',
};

const RESOURCE_ID_MESSAGE = /^must be the id of an? (.+) \(a UUID\)$/;

interface StringCheck {
  kind: string;
  message?: string;
}

/** The resource kind a zod string schema (its def) holds the id of, if it is a `resourceId(...)`. */
export function resourceKindOfDef(def: ZodTypeDef): ResourceKind | undefined {
  const d = def as ZodTypeDef & { typeName?: string; checks?: StringCheck[] };
  if (d.typeName !== 'ZodString') return undefined;
  for (const check of d.checks ?? []) {
    const what = check.kind === 'uuid' ? RESOURCE_ID_MESSAGE.exec(check.message ?? '')?.[1] : undefined;
    if (!what) continue;
    const kind = RESOURCE_KIND_BY_WHAT[what];
    if (!kind) throw new Error(`stage config field is the id of a "${what}", which has no x-resource kind; add it to RESOURCE_KIND_BY_WHAT`);
    return kind;
  }
  return undefined;
}

/** A stage type's config as JSON Schema draft-07 (no $refs), its resource id fields marked with `x-resource`. */
export function configJsonSchema(config: (typeof stageDefinitions)[number]['config']): Record<string, unknown> {
  return zodToJsonSchema(config, {
    target: 'jsonSchema7',
    $refStrategy: 'none',
    postProcess: (json, def) => {
      const kind = json && resourceKindOfDef(def);
      return kind ? { ...json, 'x-resource': kind } : json;
    },
  }) as Record<string, unknown>;
}

export interface StageTypeDescription {
  type: string;
  group: string;
  label: string;
  description: string;
  configSchema: Record<string, unknown>;
}

/** Every stage type, as the `stageTypes` query returns it. */
export function describeStageTypes(): StageTypeDescription[] {
  return stageDefinitions.map((d) => ({ type: d.type, group: d.group, label: d.label, description: d.description, configSchema: configJsonSchema(d.config) }));
}
