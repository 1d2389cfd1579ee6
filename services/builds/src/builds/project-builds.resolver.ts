import { Args, Context, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { assertProjectAccess, type RequestContext } from '@pipewright/auth';
import { BuildConnection, toBuildPage } from './build.resolver';
import { ProjectRef } from './build.model';
import { BuildService } from './build.service';

/** `Project.builds`: the builds of a project, newest first, for its members. */
@Resolver(() => ProjectRef)
export class ProjectBuildsResolver {
  constructor(private readonly service: BuildService) {}

  @ResolveField(() => BuildConnection, { description: 'Builds of this project, newest first.' })
  async builds(
    @Parent() project: ProjectRef,
    @Args('first', { type: () => Int, nullable: true }) first: number | undefined,
    @Args('after', { type: () => String, nullable: true }) after: string | undefined,
    @Context() ctx: RequestContext,
  ) {
    assertProjectAccess(ctx.identity, project.id, 'read', 'list its builds');
    return toBuildPage(await this.service.list({ projectId: project.id }, { first, after }));
  }
}
