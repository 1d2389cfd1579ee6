import { Directive, Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { stageTypes } from '@pipewright/contracts';
import { ConnectionType } from '@pipewright/platform';
import GraphQLJSON from 'graphql-type-json';
import { ProjectRef } from '../projects/project-ref.model';

export const StageTypeEnum = Object.fromEntries(stageTypes.map((t) => [t, t])) as Record<string, string>;
registerEnumType(StageTypeEnum, { name: 'StageType', description: 'What a stage does; its config follows the schema in `stageTypes`.' });

export enum FailurePolicy {
  FAIL_PIPELINE = 'FAIL_PIPELINE',
  STOP_BRANCH = 'STOP_BRANCH',
  CONTINUE = 'CONTINUE',
}
registerEnumType(FailurePolicy, { name: 'FailurePolicy' });

export enum StageGroup {
  SOURCE = 'SOURCE',
  BUILD = 'BUILD',
  DEPLOYMENT = 'DEPLOYMENT',
  FEATURE = 'FEATURE',
}
registerEnumType(StageGroup, { name: 'StageGroup' });

export enum ImportMode {
  CREATE = 'CREATE',
  REPLACE = 'REPLACE',
}
registerEnumType(ImportMode, { name: 'ImportMode', description: 'CREATE fails when the name exists; REPLACE saves a new revision of the pipeline with that name (or creates it).' });

// Entities owned by the environments service; the gateway resolves their fields there.
@ObjectType('DeploymentTarget')
@Directive('@key(fields: "id", resolvable: false)')
export class DeploymentTargetRef {
  @Field(() => ID) id!: string;
}
@ObjectType('SourceRepository')
@Directive('@key(fields: "id", resolvable: false)')
export class SourceRepositoryRef {
  @Field(() => ID) id!: string;
}
@ObjectType('BuildTool')
@Directive('@key(fields: "id", resolvable: false)')
export class BuildToolRef {
  @Field(() => ID) id!: string;
}
@ObjectType('ImageRegistry')
@Directive('@key(fields: "id", resolvable: false)')
export class ImageRegistryRef {
  @Field(() => ID) id!: string;
}
@ObjectType('ChartRepository')
@Directive('@key(fields: "id", resolvable: false)')
export class ChartRepositoryRef {
  @Field(() => ID) id!: string;
}

@ObjectType()
export class Retry {
  @Field(() => Int) maxAttempts!: number;
  @Field(() => Int) backoffSeconds!: number;
}

@ObjectType()
export class Parameter {
  @Field() name!: string;
  @Field(() => String, { nullable: true }) label?: string;
  @Field(() => String, { nullable: true }) description?: string;
  @Field(() => String, { nullable: true }) default?: string;
  @Field() required!: boolean;
  @Field(() => [String], { nullable: true }) options?: string[];
}

@ObjectType({ description: 'A step of a pipeline, a node of its graph.' })
export class Stage {
  @Field(() => ID) refId!: string;
  @Field() name!: string;
  @Field(() => StageTypeEnum) type!: string;
  @Field(() => [ID]) dependsOn!: string[];
  @Field(() => GraphQLJSON) config!: Record<string, unknown>;
  @Field(() => GraphQLJSON, { nullable: true }) startCondition?: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) endCondition?: unknown;
  @Field(() => FailurePolicy) failurePolicy!: FailurePolicy;
  @Field(() => Int, { nullable: true }) timeoutSeconds?: number;
  @Field(() => Retry, { nullable: true }) retry?: Retry;
  @Field(() => DeploymentTargetRef, { nullable: true, description: 'The deployment target the config names, if any.' }) deploymentTarget?: DeploymentTargetRef | null;
  @Field(() => SourceRepositoryRef, { nullable: true }) sourceRepository?: SourceRepositoryRef | null;
  @Field(() => BuildToolRef, { nullable: true }) buildTool?: BuildToolRef | null;
  @Field(() => ImageRegistryRef, { nullable: true }) imageRegistry?: ImageRegistryRef | null;
  @Field(() => ChartRepositoryRef, { nullable: true }) chartRepository?: ChartRepositoryRef | null;
}

@ObjectType({ description: 'A pipeline as of one revision (the latest unless asked otherwise).' })
@Directive('@key(fields: "id")')
export class Pipeline {
  @Field(() => ID) id!: string;
  @Field(() => ID, { description: 'The project it belongs to; its stages use only that project\'s resources and pipelines.' }) projectId!: string;
  @Field(() => ProjectRef, { nullable: true }) project!: ProjectRef | null;
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description?: string;
  @Field(() => [Parameter]) parameters!: Parameter[];
  @Field(() => Int, { nullable: true, description: 'At most this many runs at once; null for unlimited.' }) maxConcurrentRuns?: number | null;
  @Field(() => [Stage]) stages!: Stage[];
  @Field(() => Int, { description: 'The revision shown.' }) revision!: number;
  @Field(() => Int, { description: 'The newest revision.' }) latestRevision!: number;
  @Field() createdAt!: Date;
  @Field() createdBy!: string;
  @Field() updatedAt!: Date;
  @Field() updatedBy!: string;
}

export const PipelineConnection = ConnectionType(Pipeline, 'Pipeline');

@ObjectType()
export class PipelineRevision {
  @Field(() => Int) revision!: number;
  @Field() createdAt!: Date;
  @Field() createdBy!: string;
  @Field({ description: 'created, updated, restored from N, imported' }) note!: string;
  @Field(() => Int) stageCount!: number;
}

@ObjectType({ description: 'A stage type with its config schema, for editors to draw the form.' })
export class StageTypeInfo {
  @Field(() => StageTypeEnum) type!: string;
  @Field(() => StageGroup) group!: StageGroup;
  @Field() label!: string;
  @Field() description!: string;
  @Field(() => GraphQLJSON, { description: 'JSON Schema (draft-07) of the config.' }) configSchema!: unknown;
}

@InputType()
export class RetryInput {
  @Field(() => Int) maxAttempts!: number;
  @Field(() => Int, { nullable: true }) backoffSeconds?: number;
}

@InputType()
export class ParameterInput {
  @Field() name!: string;
  @Field({ nullable: true }) label?: string;
  @Field({ nullable: true }) description?: string;
  @Field({ nullable: true }) default?: string;
  @Field({ nullable: true }) required?: boolean;
  @Field(() => [String], { nullable: true }) options?: string[];
}

@InputType()
export class StageInput {
  @Field(() => ID) refId!: string;
  @Field() name!: string;
  @Field(() => StageTypeEnum) type!: string;
  @Field(() => [ID], { nullable: true }) dependsOn?: string[];
  @Field(() => GraphQLJSON) config!: Record<string, unknown>;
  @Field(() => GraphQLJSON, { nullable: true }) startCondition?: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) endCondition?: unknown;
  @Field(() => FailurePolicy, { nullable: true }) failurePolicy?: FailurePolicy;
  @Field(() => Int, { nullable: true }) timeoutSeconds?: number;
  @Field(() => RetryInput, { nullable: true }) retry?: RetryInput;
}

@InputType()
export class CreatePipelineInput {
  @Field(() => ID, {
    nullable: true,
    description: 'The project to create it in (default: the project named "default"); on update, omit it or give the pipeline\'s own. Not part of the pipeline\'s YAML.',
  })
  projectId?: string;
  @Field() name!: string;
  @Field({ nullable: true }) description?: string;
  @Field(() => [ParameterInput], { nullable: true }) parameters?: ParameterInput[];
  @Field(() => Int, { nullable: true }) maxConcurrentRuns?: number;
  @Field(() => [StageInput]) stages!: StageInput[];
}
