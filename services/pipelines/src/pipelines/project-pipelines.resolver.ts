import { Args, Context, Int, Parent, ResolveField, Resolver, ResolveReference } from '@nestjs/graphql';
import type { RequestContext } from '@pipewright/auth';
import { ProjectRef } from '../projects/project-ref.model';
import { toPipelinePage } from './pipeline.mapper';
import { PipelineConnection } from './pipeline.model';
import { PipelineService } from './pipeline.service';

/** `Project.pipelines`: this subgraph's part of the projects service's entity (read access checked). */
@Resolver(() => ProjectRef)
export class ProjectPipelinesResolver {
  constructor(private readonly service: PipelineService) {}

  @ResolveField(() => PipelineConnection, { description: "The project's pipelines by name." })
  async pipelines(
    @Parent() project: ProjectRef,
    @Context() ctx: RequestContext,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
    @Args('search', { type: () => String, nullable: true }) search?: string,
  ) {
    return toPipelinePage(await this.service.list(project.id, { first, after, search }, ctx.identity));
  }

  @ResolveReference()
  reference(ref: { id: string }): ProjectRef {
    return { id: ref.id };
  }
}
