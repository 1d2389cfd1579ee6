import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver, ResolveReference } from '@nestjs/graphql';
import { assertProjectAccess, type RequestContext } from '@pipewright/auth';
import { DomainError, idArgument } from '@pipewright/platform';
import { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { storeDelivery } from './delivery-store';
import { DeliveryEntity, type TriggerEntity } from './trigger.entity';
import { CreateTriggerInput, PipelineRef, Trigger, TriggerConnection, TriggerDelivery, TriggerDeliveryConnection, TriggerWithSecret, UpdateTriggerInput } from './trigger.model';
import { TriggerService } from './trigger.service';

function toDelivery(d: DeliveryEntity): TriggerDelivery {
  return {
    id: d.id,
    triggerId: d.triggerId,
    receivedAt: d.receivedAt,
    providerDeliveryId: d.providerDeliveryId,
    event: d.event,
    outcome: d.status,
    reason: d.reason,
    runId: d.runId,
    run: d.runId ? { id: d.runId } : null,
    summary: d.summary,
    redeliveryOf: d.redeliveryOf,
    canRedeliver: (d.status === 'REJECTED' || d.status === 'IGNORED') && d.payload !== null && d.payload !== undefined,
  };
}

/** The GraphQL trigger, with its row for the fields resolved from it (deliveries). */
export function toTrigger(service: TriggerService, t: TriggerEntity): Trigger & { entity: TriggerEntity } {
  return {
    id: t.id,
    projectId: t.projectId,
    pipelineId: t.pipelineId,
    pipeline: { id: t.pipelineId },
    type: t.type,
    name: t.name,
    config: t.config as unknown as Record<string, unknown>,
    enabled: t.enabled,
    createdBy: t.createdBy,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    hookUrl: service.hookUrl(t),
    hasSecret: t.secret !== null,
    nextFireAt: service.nextFireAt(t),
    entity: t,
  };
}


/** A pipeline's triggers as a connection (`triggers(pipelineId)` and `Pipeline.triggers`). */
async function triggerPage(service: TriggerService, pipelineId: string, page: { first?: number; after?: string }, ctx: RequestContext) {
  const found = await service.list(pipelineId, page, ctx.identity);
  return { ...found, edges: found.edges.map((e) => ({ cursor: e.cursor, node: toTrigger(service, e.node) })) };
}

/** Triggers' queries and mutations: each a call into TriggerService, which checks access in the pipeline's project. */
@Resolver(() => Trigger)
export class TriggerResolver {
  constructor(
    private readonly service: TriggerService,
    private readonly ds: DataSource,
  ) {}

  @Query(() => Trigger, { nullable: true, description: 'A trigger; null when there is none.' })
  async trigger(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext) {
    const t = await this.service.find(id, ctx.identity);
    return t && toTrigger(this.service, t);
  }

  @Query(() => TriggerConnection, { description: "A pipeline's triggers by name." })
  async triggers(
    @Args('pipelineId', { type: () => ID }) pipelineId: string,
    @Context() ctx: RequestContext,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ) {
    return triggerPage(this.service, pipelineId, { first, after }, ctx);
  }

  @ResolveField(() => TriggerDeliveryConnection, { description: 'Newest first.' })
  async deliveries(
    @Parent() trigger: Trigger & { entity: TriggerEntity },
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ) {
    const page = await this.service.deliveries(trigger.entity, { first, after });
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toDelivery(e.node) })) };
  }

  @Mutation(() => TriggerWithSecret, { description: 'Needs DEVELOPER or ADMIN in the pipeline\'s project. The secret (hook types) is shown in this answer only.' })
  async createTrigger(@Args('input') input: CreateTriggerInput, @Context() ctx: RequestContext) {
    const { trigger, secret } = await this.service.create(input, ctx.identity);
    return { trigger: toTrigger(this.service, trigger), secret };
  }

  @Mutation(() => Trigger, { description: 'Changes the name, the whole config or enabled.' })
  async updateTrigger(@Args('id', { type: () => ID }) id: string, @Args('input') input: UpdateTriggerInput, @Context() ctx: RequestContext) {
    return toTrigger(this.service, await this.service.update(idArgument('id', id, 'trigger'), input, ctx.identity));
  }

  @Mutation(() => ID)
  async deleteTrigger(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext) {
    return this.service.remove(idArgument('id', id, 'trigger'), ctx.identity);
  }

  @Mutation(() => TriggerWithSecret, { description: 'A new secret; the old one stops working at once. Shown in this answer only.' })
  async rotateTriggerSecret(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext) {
    const { trigger, secret } = await this.service.rotateSecret(idArgument('id', id, 'trigger'), ctx.identity);
    return { trigger: toTrigger(this.service, trigger), secret };
  }

  @Mutation(() => TriggerDelivery, { description: 'Processes an IGNORED or REJECTED delivery again, as a new delivery (after fixing the trigger or the pipeline).' })
  async redeliverTriggerDelivery(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext) {
    const d = await this.ds.getRepository(DeliveryEntity).findOneBy({ id: idArgument('id', id, 'delivery') });
    if (!d) throw new DomainError('NOT_FOUND', `no delivery with id "${id}"`, { field: 'id' });
    assertProjectAccess(ctx.identity, d.projectId, 'write', 'redeliver a trigger delivery');
    if (!toDelivery(d).canRedeliver) {
      throw DomainError.badInput([{ field: 'id', message: d.payload === null ? 'was refused before its payload was read (a bad signature): it cannot be redelivered; send it again from the provider' : `is ${d.status}: only IGNORED or REJECTED deliveries can be redelivered` }]);
    }
    const stored = await this.ds.transaction((tx) =>
      storeDelivery(tx, { triggerId: d.triggerId, projectId: d.projectId, dedupeKey: `redelivery:${randomUUID()}`, providerDeliveryId: d.providerDeliveryId, event: d.event, payload: d.payload, headers: d.headers, redeliveryOf: d.id }),
    );
    return toDelivery((await this.ds.getRepository(DeliveryEntity).findOneBy({ id: stored.id }))!);
  }

  @ResolveReference()
  async reference(ref: { id: string }, ctx: RequestContext) {
    const t = await this.service.find(ref.id, ctx.identity);
    return t && toTrigger(this.service, t);
  }
}

/** `Pipeline.triggers`: this subgraph's part of the pipelines service's entity. */
@Resolver(() => PipelineRef)
export class PipelineTriggersResolver {
  constructor(private readonly service: TriggerService) {}

  @ResolveField(() => TriggerConnection, { description: "The pipeline's triggers by name." })
  async triggers(
    @Parent() pipeline: PipelineRef,
    @Context() ctx: RequestContext,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ) {
    return triggerPage(this.service, pipeline.id, { first, after }, ctx);
  }

  @ResolveReference()
  reference(ref: { id: string }): PipelineRef {
    return { id: ref.id };
  }
}
