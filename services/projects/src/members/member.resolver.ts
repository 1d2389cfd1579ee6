import { Args, Context, ID, Mutation, Resolver } from '@nestjs/graphql';
import type { RequestContext } from '@pipewright/auth';
import { idArgument } from '@pipewright/platform';
import { toMember } from '../projects/project.mapper';
import { ProjectRole } from '../roles';
import { ProjectMember } from './member.model';
import { MemberService } from './member.service';

/** Thin: membership changes, each one call into MemberService (which checks project ADMIN). */
@Resolver(() => ProjectMember)
export class MemberResolver {
  constructor(private readonly members: MemberService) {}

  @Mutation(() => ProjectMember, { description: 'Project ADMIN. Adds the subject or sets its roles to exactly these; the last ADMIN cannot lose ADMIN (except by a platform ADMIN).' })
  async setProjectMember(
    @Args('projectId', { type: () => ID }) projectId: string,
    @Args('subject') subject: string,
    @Args('roles', { type: () => [ProjectRole] }) roles: ProjectRole[],
    @Context() ctx: RequestContext,
  ) {
    return toMember(await this.members.set(idArgument('projectId', projectId, 'project'), subject, roles, ctx.identity));
  }

  @Mutation(() => Boolean, { description: 'Project ADMIN. False when the subject was not a member; the last ADMIN cannot be removed (except by a platform ADMIN).' })
  removeProjectMember(@Args('projectId', { type: () => ID }) projectId: string, @Args('subject') subject: string, @Context() ctx: RequestContext) {
    return this.members.remove(idArgument('projectId', projectId, 'project'), subject, ctx.identity);
  }
}
