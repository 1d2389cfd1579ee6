import { Args, Context, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { assertProjectAccess, type RequestContext } from '@pipewright/auth';
import { RunConnection, toRunPage } from './run.resolver';
import { ProjectRef, RunStatus } from './run.model';
import { RunService } from './run.service';

/** `Project.runs`: the runs of a project, newest first, for its members. */
@Resolver(() => ProjectRef)
export class ProjectRunsResolver {
  constructor(private readonly service: RunService) {}

  @ResolveField(() => RunConnection, { description: 'Runs of this project, newest first.' })
  async runs(
    @Parent() project: ProjectRef,
    @Args('first', { type: () => Int, nullable: true }) first: number | undefined,
    @Args('after', { type: () => String, nullable: true }) after: string | undefined,
    @Args('status', { type: () => RunStatus, nullable: true }) status: RunStatus | undefined,
    @Context() ctx: RequestContext,
  ) {
    assertProjectAccess(ctx.identity, project.id, 'read', 'list its runs');
    return toRunPage(this.service, await this.service.list({ projectId: project.id }, { status, first, after }));
  }
}
