import { Context, Query, Resolver } from '@nestjs/graphql';
import type { RequestContext } from '@pipewright/auth';
import { toProject } from '../projects/project.mapper';
import { ProjectService } from '../projects/project.service';
import { CurrentViewer } from './viewer.model';

/** `viewer`: who the caller is, from the identity the gateway signed (its real memberships only). */
@Resolver(() => CurrentViewer)
export class ViewerResolver {
  constructor(private readonly projects: ProjectService) {}

  @Query(() => CurrentViewer, { description: 'Who the caller is: platform roles, how it signed in, and the projects it belongs to.' })
  async viewer(@Context() ctx: RequestContext): Promise<CurrentViewer> {
    const identity = ctx.identity;
    const memberships = identity.projects ?? [];
    const found = await this.projects.byIds(memberships.map((m) => m.projectId));
    return {
      sub: identity.sub,
      name: identity.name ?? null,
      roles: identity.roles,
      via: identity.via,
      projects: memberships.filter((m) => found.has(m.projectId)).map((m) => ({ project: toProject(found.get(m.projectId)!), roles: m.roles })),
    };
  }
}
