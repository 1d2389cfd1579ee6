import { Directive, Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { runStatusSchema, stageStatusSchema, triggerTypeSchema, type RunStatus as RunStatusValue, type StageStatus as StageStatusValue, type TriggerType as TriggerTypeValue } from '@pipewright/contracts';
import GraphQLJSON from 'graphql-type-json';

/** GraphQL enums built from the contracts' status lists, so the two never drift apart. */
const enumOf = <T extends string>(values: readonly T[]) => Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

export const RunStatus = enumOf(runStatusSchema.options);
export type RunStatus = RunStatusValue;
registerEnumType(RunStatus, { name: 'RunStatus' });

export const StageStatus = enumOf(stageStatusSchema.options);
export type StageStatus = StageStatusValue;
registerEnumType(StageStatus, { name: 'StageStatus' });

export const TriggerType = enumOf(triggerTypeSchema.options);
registerEnumType(TriggerType, { name: 'TriggerType' });

@ObjectType({ description: 'The trigger that started a run, and its delivery.' })
export class RunTrigger {
  @Field(() => TriggerType) type!: TriggerTypeValue;
  @Field(() => ID) triggerId!: string;
  @Field(() => ID) deliveryId!: string;
  @Field({ description: 'e.g. "push to main by alice: abc1234".' }) summary!: string;
}

export enum Decision {
  CONTINUE = 'CONTINUE',
  STOP = 'STOP',
}
registerEnumType(Decision, { name: 'Decision' });

@ObjectType('Pipeline')
@Directive('@key(fields: "id", resolvable: false)')
export class PipelineRef {
  @Field(() => ID) id!: string;
}

/**
 * The projects service's Project, to which this service contributes `runs` (project-runs.resolver.ts);
 * `Run.project` is a reference to it.
 */
@ObjectType('Project')
@Directive('@key(fields: "id")')
export class ProjectRef {
  @Field(() => ID) id!: string;
}

@ObjectType({ description: 'A judgement or approval decision: who, when, what.' })
export class StageDecision {
  @Field(() => Decision) decision!: Decision;
  @Field(() => String, { nullable: true }) value!: string | null;
  @Field(() => String, { nullable: true }) comment!: string | null;
  @Field() by!: string;
  @Field() at!: string;
}

@ObjectType()
export class StageRun {
  @Field(() => ID) refId!: string;
  @Field() name!: string;
  @Field() type!: string;
  @Field(() => StageStatus) status!: StageStatus;
  @Field(() => Int) attempt!: number;
  @Field(() => GraphQLJSON, { nullable: true }) outputs!: unknown;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => GraphQLJSON, { nullable: true, description: 'What a waiting stage asks (judgement options, approval message).' }) prompt!: unknown;
  @Field(() => StageDecision, { nullable: true }) decision!: StageDecision | null;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'Who last restarted this stage.' }) restartedBy!: string | null;
  @Field(() => Date, { nullable: true }) restartedAt!: Date | null;
}

@ObjectType()
@Directive('@key(fields: "id")')
export class Run {
  @Field(() => ID) id!: string;
  @Field(() => ID, { description: "The pipeline's project; a child run's is its parent's." }) projectId!: string;
  @Field(() => ProjectRef, { nullable: true }) project!: ProjectRef;
  @Field(() => Int, { description: 'Numbered per pipeline: 1, 2, 3, ...' }) number!: number;
  @Field(() => RunStatus) status!: RunStatus;
  @Field(() => ID) pipelineId!: string;
  @Field(() => PipelineRef) pipeline!: PipelineRef;
  @Field() pipelineName!: string;
  @Field(() => Int, { description: 'The pipeline revision this run executes.' }) revision!: number;
  @Field(() => GraphQLJSON) parameters!: Record<string, string>;
  @Field(() => GraphQLJSON) artifacts!: Record<string, unknown>;
  @Field(() => [StageRun]) stages!: StageRun[];
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => Int, { description: 'The sequence number of the last event about this run.' }) sequence!: number;
  @Field(() => ID, { nullable: true }) parentRunId!: string | null;
  @Field() createdBy!: string;
  @Field(() => RunTrigger, { nullable: true, description: 'What started it when a trigger did; null when a person or a parent run did.' }) trigger!: RunTrigger | null;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
}
