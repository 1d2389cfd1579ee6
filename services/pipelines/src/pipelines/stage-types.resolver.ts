import { Query, Resolver } from '@nestjs/graphql';
import { stageDefinitions } from '@pipewright/contracts';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { StageGroup, StageTypeInfo } from './pipeline.model';

/** Computed once: the stage types do not change while the service runs. */
const STAGE_TYPES: StageTypeInfo[] = stageDefinitions.map((d) => ({
  type: d.type,
  group: d.group as StageGroup,
  label: d.label,
  description: d.description,
  configSchema: zodToJsonSchema(d.config, { target: 'jsonSchema7', $refStrategy: 'none' }),
}));

@Resolver(() => StageTypeInfo)
export class StageTypesResolver {
  /** Anyone signed in may read these (no project data): the gateway's signature guarantees an identity. */
  @Query(() => [StageTypeInfo], { description: 'Every stage type with its group and config JSON Schema.' })
  stageTypes(): StageTypeInfo[] {
    return STAGE_TYPES;
  }
}
