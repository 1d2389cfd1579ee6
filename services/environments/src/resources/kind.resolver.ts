import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver, ResolveReference } from '@nestjs/graphql';
import type { RequestContext } from '@pipewright/auth';
import { ConnectionType, idArgument, optionalIdArgument, type Connection } from '@pipewright/platform';
import { pluralLabel, type KindDefinition } from '../kinds/kind';
import { ProbeResult } from '../probes/probe-result.model';
import { ProjectRef } from '../projects/project-ref.model';
import type { ResourceEntity } from './resource.entity';
import { ResourceService } from './resource.service';

/**
 * The GraphQL operations of one kind: `<kind>(id)`, `<kinds>(projectId, first, after, search)`,
 * `create<Kind>`, `update<Kind>`, `delete<Kind>`, `test<Kind>`, its entity reference, and
 * `Project.<kinds>`. Thin: every call goes to ResourceService with the kind's definition, which
 * checks the caller's access in the resource's project (read: any member; changes: its ADMIN).
 */
export function createKindResolvers(def: KindDefinition) {
  const ConnectionClass = ConnectionType(def.model, def.typeName);
  const page = (c: Connection<ResourceEntity>) => ({ ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: def.toModel(e.node) })) });

  @Resolver(() => def.model)
  class KindResolver {
    constructor(readonly resources: ResourceService) {}

    @Query(() => def.model, { name: def.singular, nullable: true, description: `One ${def.label}, or null when there is none with this id (FORBIDDEN when it is a project's you are not a member of).` })
    async one(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext) {
      const row = await this.resources.find(def, id, ctx.identity);
      return row && def.toModel(row);
    }

    @Query(() => ConnectionClass, { name: def.plural, description: `A project's ${pluralLabel(def)} by name (default: the project named "default"); search matches the name or URL.` })
    async list(
      @Context() ctx: RequestContext,
      @Args('projectId', { type: () => ID, nullable: true }) projectId?: string,
      @Args('first', { type: () => Int, nullable: true }) first?: number,
      @Args('after', { type: () => String, nullable: true }) after?: string,
      @Args('search', { type: () => String, nullable: true }) search?: string,
    ) {
      return page(await this.resources.list(def, projectId, { first, after, search }, ctx.identity));
    }

    @Mutation(() => def.model, { name: `create${def.typeName}`, description: `Needs ADMIN in the project.` })
    async create(@Args('input', { type: () => def.createInput }) input: Record<string, unknown>, @Context() ctx: RequestContext) {
      optionalIdArgument('input.projectId', input.projectId as string | null | undefined, 'project');
      return def.toModel(await this.resources.create(def, { ...input }, ctx.identity));
    }

    @Mutation(() => def.model, { name: `update${def.typeName}`, description: 'Omitted fields keep their value; a secret set to null is cleared. Needs ADMIN in its project.' })
    async update(
      @Args('id', { type: () => ID }) id: string,
      @Args('input', { type: () => def.updateInput }) input: Record<string, unknown>,
      @Context() ctx: RequestContext,
    ) {
      return def.toModel(await this.resources.update(def, idArgument('id', id, def.label), { ...input }, ctx.identity));
    }

    @Mutation(() => ID, { name: `delete${def.typeName}`, description: 'Refused with CONFLICT while pipelines use it, unless force is true. Needs ADMIN in its project.' })
    async remove(
      @Args('id', { type: () => ID }) id: string,
      @Args('force', { type: () => Boolean, defaultValue: false }) force: boolean,
      @Context() ctx: RequestContext,
    ) {
      return (await this.resources.delete(def, idArgument('id', id, def.label), force, ctx.identity)).id;
    }

    @Mutation(() => ProbeResult, { name: `test${def.typeName}`, description: 'Probes the real endpoint with the stored credentials. Needs ADMIN in its project.' })
    test(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext) {
      return this.resources.test(def, idArgument('id', id, def.label), ctx.identity);
    }

    /** Apollo calls this with (reference, context): no parameter decorators here. Checks read access too. */
    @ResolveReference()
    async reference(ref: { id: string }, ctx: RequestContext) {
      const row = await this.resources.find(def, ref.id, ctx.identity);
      return row && def.toModel(row);
    }
  }
  Object.defineProperty(KindResolver, 'name', { value: `${def.typeName}Resolver` });

  // The method is named after the field: Nest matches a type's field resolvers by method name.
  @Resolver(() => ProjectRef)
  class ProjectKindResolver {
    constructor(readonly resources: ResourceService) {}

    @ResolveField(() => ConnectionClass, { name: def.plural, description: `The project's ${pluralLabel(def)} by name; search matches the name or URL.` })
    async [def.plural](
      @Parent() project: ProjectRef,
      @Context() ctx: RequestContext,
      @Args('first', { type: () => Int, nullable: true }) first?: number,
      @Args('after', { type: () => String, nullable: true }) after?: string,
      @Args('search', { type: () => String, nullable: true }) search?: string,
    ) {
      return page(await this.resources.list(def, project.id, { first, after, search }, ctx.identity));
    }
  }
  Object.defineProperty(ProjectKindResolver, 'name', { value: `Project${def.typeName}sResolver` });

  return [KindResolver, ProjectKindResolver];
}
