import { Query, Resolver } from '@nestjs/graphql';
import { StageGroup, StageTypeInfo } from './pipeline.model';
import { describeStageTypes } from './stage-type-schemas';

/**
 * Computed once: the stage types do not change while the service runs. Each configSchema is the
 * zod config as JSON Schema draft-07 (zod-to-json-schema, no $refs) whose resource id fields carry
 * `"x-resource": "SOURCE_REPOSITORY" | "BUILD_TOOL" | "IMAGE_REGISTRY" | "CHART_REPOSITORY" |
 * "DEPLOYMENT_TARGET" | "PIPELINE"` (see stage-type-schemas.ts), so editors can offer pickers.
 */
const STAGE_TYPES: StageTypeInfo[] = describeStageTypes().map((d) => ({ ...d, group: d.group as StageGroup }));

@Resolver(() => StageTypeInfo)
export class StageTypesResolver {
  /** Anyone signed in may read these (no project data): the gateway's signature guarantees an identity. */
  @Query(() => [StageTypeInfo], { description: 'Every stage type with its group and config JSON Schema.' })
  stageTypes(): StageTypeInfo[] {
    return STAGE_TYPES;
  }
}
