import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver, ResolveReference } from '@nestjs/graphql';
import { projectRolesOf, Roles, type RequestContext } from '@pipewright/auth';
import { Role } from '@pipewright/contracts';
import { DomainError, idArgument } from '@pipewright/platform';
import { ApiTokenConnection } from '../api-tokens/api-token.model';
import { ApiTokenService } from '../api-tokens/api-token.service';
import { ProjectMemberConnection } from '../members/member.model';
import { MemberService } from '../members/member.service';
import { ProjectRole } from '../roles';
import { assertAccessTo } from './project-access';
import { mapConnection, toApiToken, toMember, toProject } from './project.mapper';
import { CreateProjectInput, Project, ProjectConnection, UpdateProjectInput } from './project.model';
import { ProjectService } from './project.service';

/** Thin: each operation is one access check and one call into a service. */
@Resolver(() => Project)
export class ProjectResolver {
  constructor(
    private readonly projectService: ProjectService,
    private readonly memberService: MemberService,
    private readonly tokens: ApiTokenService,
  ) {}

  @Query(() => Project, { nullable: true, description: 'A project by id or slug; null when there is none. FORBIDDEN when the caller is not a member.' })
  async project(
    @Context() ctx: RequestContext,
    @Args('id', { type: () => ID, nullable: true }) id?: string,
    @Args('slug', { type: () => String, nullable: true }) slug?: string,
  ) {
    if (!id && !slug) throw DomainError.badInput([{ field: 'id', message: 'or slug is required' }]);
    const found = id ? await this.projectService.get(id) : await this.projectService.getBySlug(slug!);
    if (!found || (id && slug && found.slug !== slug)) return null;
    assertAccessTo(ctx.identity, found, 'read', 'see it');
    return toProject(found);
  }

  @Query(() => ProjectConnection, { description: "The caller's projects (every project for a platform ADMIN), by slug." })
  async projects(
    @Context() ctx: RequestContext,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
    @Args('search', { type: () => String, nullable: true, description: 'Part of the slug or name.' }) search?: string,
  ) {
    return mapConnection(await this.projectService.list(ctx.identity, { first, after, search }), toProject);
  }

  @Mutation(() => Project, { description: 'Platform ADMIN only; the creator becomes its ADMIN member.' })
  @Roles(Role.ADMIN)
  async createProject(@Args('input') input: CreateProjectInput, @Context() ctx: RequestContext) {
    return toProject(await this.projectService.create(input, ctx.identity));
  }

  @Mutation(() => Project, { description: 'Project ADMIN.' })
  async updateProject(@Args('id', { type: () => ID }) id: string, @Args('input') input: UpdateProjectInput, @Context() ctx: RequestContext) {
    return toProject(await this.projectService.update(idArgument('id', id, 'project'), input, ctx.identity));
  }

  @Mutation(() => ID, { description: 'Project ADMIN. Refused while any service holds something of the project, unless force; `default` can never be deleted.' })
  async deleteProject(
    @Args('id', { type: () => ID }) id: string,
    @Args('force', { type: () => Boolean, defaultValue: false }) force: boolean,
    @Context() ctx: RequestContext,
  ) {
    return this.projectService.remove(idArgument('id', id, 'project'), force, ctx.identity);
  }

  @ResolveField(() => [ProjectRole], { description: "The caller's roles in this project (empty when not a member)." })
  viewerRoles(@Parent() project: Project, @Context() ctx: RequestContext) {
    return projectRolesOf(ctx.identity, project.id);
  }

  @ResolveField(() => ProjectMemberConnection)
  async members(
    @Parent() project: Project,
    @Context() ctx: RequestContext,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ) {
    assertAccessTo(ctx.identity, project, 'read', 'see its members');
    return mapConnection(await this.memberService.list(project.id, { first, after }), toMember);
  }

  @ResolveField(() => ApiTokenConnection, { description: 'Project ADMIN only; newest first.' })
  async apiTokens(
    @Parent() project: Project,
    @Context() ctx: RequestContext,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
    @Args('includeRevoked', { type: () => Boolean, defaultValue: false }) includeRevoked?: boolean,
  ) {
    assertAccessTo(ctx.identity, project, 'admin', 'see its API tokens');
    return mapConnection(await this.tokens.list(project.id, { first, after, includeRevoked }), toApiToken);
  }

  @ResolveReference()
  async reference(ref: { id: string }, ctx: RequestContext) {
    const found = await this.projectService.get(ref.id);
    if (!found) return null;
    assertAccessTo(ctx.identity, found, 'read', 'see it');
    return toProject(found);
  }
}
