import { Directive, Field, ID, InputType, ObjectType, registerEnumType } from '@nestjs/graphql';
import { triggerTypeSchema, type TriggerType as TriggerTypeValue } from '@pipewright/contracts';
import { ConnectionType } from '@pipewright/platform';
import GraphQLJSON from 'graphql-type-json';
import type { DeliveryStatus } from './trigger.entity';

const enumOf = <T extends string>(values: readonly T[]) => Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

export const TriggerType = enumOf(triggerTypeSchema.options);
export type TriggerType = TriggerTypeValue;
registerEnumType(TriggerType, { name: 'TriggerType' });

export const DeliveryOutcome = enumOf<DeliveryStatus>(['PENDING', 'STARTED', 'IGNORED', 'REJECTED']);
registerEnumType(DeliveryOutcome, { name: 'DeliveryOutcome', description: 'PENDING: stored, not processed yet; STARTED: a run was started; IGNORED: nothing to start, and why; REJECTED: refused, and why.' });

/** The pipelines service's Pipeline, to which this service contributes `triggers`. */
@ObjectType('Pipeline')
@Directive('@key(fields: "id")')
export class PipelineRef {
  @Field(() => ID) id!: string;
}

/** The executions service's Run (a delivery's run). */
@ObjectType('Run')
@Directive('@key(fields: "id", resolvable: false)')
export class RunRef {
  @Field(() => ID) id!: string;
}

@ObjectType()
export class TriggerDelivery {
  @Field(() => ID) id!: string;
  @Field(() => ID) triggerId!: string;
  @Field() receivedAt!: Date;
  @Field(() => String, { nullable: true, description: "The provider's delivery id (X-GitHub-Delivery, X-Gitlab-Event-UUID, the registry's event id ...)." }) providerDeliveryId!: string | null;
  @Field({ description: 'push, tag_push, image_push, schedule, pipeline, webhook, ping ...' }) event!: string;
  @Field(() => DeliveryOutcome) outcome!: DeliveryStatus;
  @Field(() => String, { nullable: true, description: 'Why it was IGNORED or REJECTED.' }) reason!: string | null;
  @Field(() => ID, { nullable: true }) runId!: string | null;
  @Field(() => RunRef, { nullable: true }) run!: RunRef | null;
  @Field(() => String, { nullable: true }) summary!: string | null;
  @Field(() => ID, { nullable: true }) redeliveryOf!: string | null;
  @Field({ description: 'Whether redeliverTriggerDelivery may be called for it (REJECTED or IGNORED deliveries that kept their payload).' }) canRedeliver!: boolean;
}
export const TriggerDeliveryConnection = ConnectionType(TriggerDelivery, 'TriggerDelivery');

@ObjectType()
@Directive('@key(fields: "id")')
export class Trigger {
  @Field(() => ID) id!: string;
  @Field(() => ID) projectId!: string;
  @Field(() => ID) pipelineId!: string;
  @Field(() => PipelineRef) pipeline!: PipelineRef;
  @Field(() => TriggerType) type!: TriggerType;
  @Field() name!: string;
  @Field(() => GraphQLJSON, { description: 'Type-specific settings, with their defaults.' }) config!: Record<string, unknown>;
  @Field() enabled!: boolean;
  @Field() createdBy!: string;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
  @Field(() => String, { nullable: true, description: 'Where the provider must send its events (POST); null for CRON and PIPELINE.' }) hookUrl!: string | null;
  @Field({ description: 'Whether the trigger has a secret (GIT_PUSH/GIT_TAG: the webhook secret; IMAGE_PUSH/WEBHOOK: the bearer token).' }) hasSecret!: boolean;
  @Field(() => Date, { nullable: true, description: 'CRON: the next time it fires.' }) nextFireAt!: Date | null;
}
export const TriggerConnection = ConnectionType(Trigger, 'Trigger');

@ObjectType({ description: 'A trigger with its secret: only createTrigger and rotateTriggerSecret show the secret, once.' })
export class TriggerWithSecret {
  @Field(() => Trigger) trigger!: Trigger;
  @Field(() => String, { nullable: true }) secret!: string | null;
}

@InputType()
export class CreateTriggerInput {
  @Field(() => ID) pipelineId!: string;
  @Field(() => TriggerType) type!: TriggerType;
  @Field() name!: string;
  @Field(() => GraphQLJSON) config!: unknown;
  @Field(() => Boolean, { nullable: true, description: 'Default true.' }) enabled?: boolean | null;
}

@InputType()
export class UpdateTriggerInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => GraphQLJSON, { nullable: true, description: 'The whole config of the type (replaces the old one).' }) config?: unknown;
  @Field(() => Boolean, { nullable: true }) enabled?: boolean | null;
}

