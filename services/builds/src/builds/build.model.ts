import { Directive, Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { BUILD_STATUSES, type BuildStatus as BuildStatusValue } from '@pipewright/contracts';
import GraphQLJSON from 'graphql-type-json';

export const BuildStatus = Object.fromEntries(BUILD_STATUSES.map((s) => [s, s])) as { [K in BuildStatusValue]: K };
export type BuildStatus = BuildStatusValue;
registerEnumType(BuildStatus, { name: 'BuildStatus' });

@ObjectType('Run')
@Directive('@key(fields: "id", resolvable: false)')
export class RunRef {
  @Field(() => ID) id!: string;
}

/**
 * The projects service's Project, to which this service contributes `builds` (project-builds.resolver.ts);
 * `Build.project` is a reference to it.
 */
@ObjectType('Project')
@Directive('@key(fields: "id")')
export class ProjectRef {
  @Field(() => ID) id!: string;
}

@ObjectType()
export class BuildLogLine {
  @Field(() => Int, { description: '0, 1, 2, ... within the build.' }) offset!: number;
  @Field({ description: 'When the line was written (ISO 8601).' }) at!: string;
  @Field({ description: 'The line, with every secret masked.' }) text!: string;
}

@ObjectType()
export class BuildLogPage {
  @Field(() => [BuildLogLine]) lines!: BuildLogLine[];
  @Field(() => Int, { description: 'Offset to ask for next.' }) nextOffset!: number;
  @Field({ description: 'The build has finished and this page reaches the end of its log.' }) complete!: boolean;
}

@ObjectType()
@Directive('@key(fields: "id")')
export class Build {
  @Field(() => ID) id!: string;
  @Field(() => ID, { description: "The run's project." }) projectId!: string;
  @Field(() => ProjectRef, { nullable: true }) project!: ProjectRef;
  @Field(() => Int, { description: 'Numbered per pipeline stage: 1, 2, 3, ... never reused.' }) number!: number;
  @Field(() => BuildStatus) status!: BuildStatus;
  @Field() stageType!: string;
  @Field(() => ID, { description: 'The refId of the pipeline stage.' }) stageRefId!: string;
  @Field(() => ID) pipelineId!: string;
  @Field(() => ID) runId!: string;
  @Field(() => RunRef, { description: 'The run this build belongs to (resolved by the executions service).' }) run!: RunRef;
  @Field(() => Int) runNumber!: number;
  @Field(() => String, { nullable: true, description: 'The image pushed (hosted builds).' }) image!: string | null;
  @Field(() => String, { nullable: true, description: 'Digest of the pushed image.' }) digest!: string | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => String, { nullable: true }) warning!: string | null;
  @Field(() => GraphQLJSON, { nullable: true }) outputs!: unknown;
  @Field() queuedAt!: Date;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
  @Field(() => Float, { nullable: true, description: 'Seconds from start to finish (so far, while it runs).' }) durationSeconds!: number | null;
  @Field(() => Int, { description: 'Log lines stored so far.' }) logLineCount!: number;
}
