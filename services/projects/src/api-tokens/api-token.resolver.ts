import { Args, Context, ID, Mutation, Resolver } from '@nestjs/graphql';
import type { RequestContext } from '@pipewright/auth';
import { idArgument } from '@pipewright/platform';
import { toApiToken } from '../projects/project.mapper';
import { ApiToken, CreateApiTokenInput, CreatedApiToken } from './api-token.model';
import { ApiTokenService } from './api-token.service';

/** Thin: API token changes, each one call into ApiTokenService (which checks project ADMIN). */
@Resolver(() => ApiToken)
export class ApiTokenResolver {
  constructor(private readonly tokens: ApiTokenService) {}

  @Mutation(() => CreatedApiToken, { description: 'Project ADMIN (not with an API token). The token is in the answer only this once.' })
  async createApiToken(@Args('input') input: CreateApiTokenInput, @Context() ctx: RequestContext): Promise<CreatedApiToken> {
    const { token, apiToken } = await this.tokens.create({ ...input, projectId: idArgument('input.projectId', input.projectId, 'project') }, ctx.identity);
    return { token, apiToken: toApiToken(apiToken) };
  }

  @Mutation(() => ApiToken, { description: "Project ADMIN of the token's project. It stops working at once." })
  async revokeApiToken(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext) {
    return toApiToken(await this.tokens.revoke(idArgument('id', id, 'API token'), ctx.identity));
  }
}
