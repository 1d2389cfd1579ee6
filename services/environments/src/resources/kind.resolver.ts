import { Args, Context, ID, Int, Mutation, Query, Resolver, ResolveReference } from '@nestjs/graphql';
import { Role } from '@pipewright/contracts';
import { Roles, type RequestContext } from '@pipewright/auth';
import { ConnectionType, type Connection } from '@pipewright/platform';
import type { KindDefinition } from '../kinds/kind';
import { ProbeResult } from '../probes/probe-result.model';
import type { ResourceEntity } from './resource.entity';
import { ResourceService } from './resource.service';

const READERS = [Role.VIEWER, Role.DEVELOPER, Role.APPROVAL_ADMIN];

/**
 * The GraphQL operations of one kind: `<kind>(id)`, `<kinds>(first, after, search)`,
 * `create<Kind>`, `update<Kind>`, `delete<Kind>`, `test<Kind>`, and its entity reference.
 * Thin: every call goes to ResourceService with the kind's definition.
 */
export function createKindResolver(def: KindDefinition) {
  const ConnectionClass = ConnectionType(def.model, def.typeName);
  const page = (c: Connection<ResourceEntity>) => ({ ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: def.toModel(e.node) })) });

  @Resolver(() => def.model)
  class KindResolver {
    constructor(readonly resources: ResourceService) {}

    @Query(() => def.model, { name: def.singular, nullable: true, description: `One ${def.label}, or null when there is none with this id.` })
    @Roles(...READERS)
    async one(@Args('id', { type: () => ID }) id: string) {
      const row = await this.resources.get(def, id);
      return row && def.toModel(row);
    }

    @Query(() => ConnectionClass, { name: def.plural, description: `${def.label}s by name; search matches the name or URL.` })
    @Roles(...READERS)
    async list(
      @Args('first', { type: () => Int, nullable: true }) first?: number,
      @Args('after', { type: () => String, nullable: true }) after?: string,
      @Args('search', { type: () => String, nullable: true }) search?: string,
    ) {
      return page(await this.resources.list(def, { first, after, search }));
    }

    @Mutation(() => def.model, { name: `create${def.typeName}` })
    @Roles(Role.ADMIN)
    async create(@Args('input', { type: () => def.createInput }) input: Record<string, unknown>, @Context() ctx: RequestContext) {
      return def.toModel(await this.resources.create(def, { ...input }, ctx.identity));
    }

    @Mutation(() => def.model, { name: `update${def.typeName}`, description: 'Omitted fields keep their value; a secret set to null is cleared.' })
    @Roles(Role.ADMIN)
    async update(
      @Args('id', { type: () => ID }) id: string,
      @Args('input', { type: () => def.updateInput }) input: Record<string, unknown>,
      @Context() ctx: RequestContext,
    ) {
      return def.toModel(await this.resources.update(def, id, { ...input }, ctx.identity));
    }

    @Mutation(() => ID, { name: `delete${def.typeName}`, description: 'Refused with CONFLICT while pipelines use it, unless force is true.' })
    @Roles(Role.ADMIN)
    async remove(
      @Args('id', { type: () => ID }) id: string,
      @Args('force', { type: () => Boolean, defaultValue: false }) force: boolean,
      @Context() ctx: RequestContext,
    ) {
      return (await this.resources.delete(def, id, force, ctx.identity)).id;
    }

    @Mutation(() => ProbeResult, { name: `test${def.typeName}`, description: 'Probes the real endpoint with the stored credentials.' })
    @Roles(Role.ADMIN)
    test(@Args('id', { type: () => ID }) id: string) {
      return this.resources.test(def, id);
    }

    @ResolveReference()
    async reference(ref: { id: string }) {
      const row = await this.resources.get(def, ref.id);
      return row && def.toModel(row);
    }
  }
  Object.defineProperty(KindResolver, 'name', { value: `${def.typeName}Resolver` });
  return KindResolver;
}
