import { Args, Context, ID, Int, Parent, Query, ResolveField, Resolver, ResolveReference } from '@nestjs/graphql';
import type { RequestContext } from '@pipewright/auth';
import { TERMINAL_BUILD_STATUSES } from '@pipewright/contracts';
import { ConnectionType, type Connection } from '@pipewright/platform';
import type { BuildEntity } from './build.entity';
import { Build, BuildLogPage } from './build.model';
import { BuildService, projectScope } from './build.service';

export const BuildConnection = ConnectionType(Build, 'Build');

export function toBuild(b: BuildEntity): Build {
  const end = b.finishedAt ?? (b.startedAt ? new Date() : null);
  return {
    id: b.id,
    projectId: b.projectId,
    project: { id: b.projectId },
    number: b.number,
    status: b.status,
    stageType: b.stageType,
    stageRefId: b.refId,
    pipelineId: b.pipelineId,
    runId: b.runId,
    run: { id: b.runId },
    runNumber: b.runNumber,
    image: b.image,
    digest: b.digest,
    error: b.error,
    warning: b.warning,
    outputs: b.outputs,
    queuedAt: b.createdAt,
    startedAt: b.startedAt,
    finishedAt: b.finishedAt,
    durationSeconds: b.startedAt && end ? (end.getTime() - b.startedAt.getTime()) / 1000 : null,
    logLineCount: b.logLines,
  };
}

export const toBuildPage = (page: Connection<BuildEntity>): Connection<Build> => ({ ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toBuild(e.node) })) });

/** Thin: each field is one call into BuildService. Reading a build needs membership of its project. */
@Resolver(() => Build)
export class BuildResolver {
  constructor(private readonly service: BuildService) {}

  @Query(() => Build, { nullable: true, description: "A build; FORBIDDEN unless you are a member of its project." })
  async build(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext) {
    const b = await this.service.getReadable(id, ctx.identity);
    return b && toBuild(b);
  }

  @Query(() => BuildConnection, {
    description:
      'Builds, newest first: of a project (default: the project named `default`), or of a pipeline, one of its stages, or a run (then of every project you may read unless projectId is given).',
  })
  async builds(
    @Args('projectId', { type: () => ID, nullable: true }) projectId: string | undefined,
    @Args('pipelineId', { type: () => ID, nullable: true }) pipelineId: string | undefined,
    @Args('stageRefId', { type: () => ID, nullable: true }) stageRefId: string | undefined,
    @Args('runId', { type: () => ID, nullable: true }) runId: string | undefined,
    @Args('first', { type: () => Int, nullable: true }) first: number | undefined,
    @Args('after', { type: () => String, nullable: true }) after: string | undefined,
    @Context() ctx: RequestContext,
  ) {
    const scope = projectScope(ctx.identity, projectId, !!(pipelineId || runId));
    return toBuildPage(await this.service.list(scope, { pipelineId, stageRefId, runId, first, after }));
  }

  /** The parent build was read through `build`, `builds` or a reference, each of which checked its project. */
  @ResolveField(() => BuildLogPage, { description: 'Log lines from `offset`, at most `limit` (up to 5000).' })
  async log(@Parent() build: Build, @Args('offset', { type: () => Int, defaultValue: 0 }) offset: number, @Args('limit', { type: () => Int, defaultValue: 1000 }) limit: number): Promise<BuildLogPage> {
    const lines = await this.service.readLog(build.id, offset, limit);
    const nextOffset = lines.length ? lines[lines.length - 1].offset + 1 : offset;
    // Read the status after the lines: a finished build's log is complete before it says so.
    const now = await this.service.get(build.id);
    const finished = !!now && TERMINAL_BUILD_STATUSES.includes(now.status);
    return { lines, nextOffset, complete: finished && nextOffset >= (now?.logLines ?? 0) };
  }

  /** A build reached through another subgraph: read access is checked here too. */
  @ResolveReference()
  async reference(ref: { id: string }, ctx: RequestContext) {
    const b = await this.service.getReadable(ref.id, ctx.identity);
    return b && toBuild(b);
  }
}
