import { Args, ID, Int, Parent, Query, ResolveField, Resolver, ResolveReference } from '@nestjs/graphql';
import { Roles } from '@pipewright/auth';
import { Role, TERMINAL_BUILD_STATUSES } from '@pipewright/contracts';
import { ConnectionType } from '@pipewright/platform';
import type { BuildEntity } from './build.entity';
import { Build, BuildLogPage } from './build.model';
import { BuildService } from './build.service';

const READERS = [Role.VIEWER, Role.DEVELOPER, Role.APPROVAL_ADMIN];
const BuildConnection = ConnectionType(Build, 'Build');

export function toBuild(b: BuildEntity): Build {
  const end = b.finishedAt ?? (b.startedAt ? new Date() : null);
  return {
    id: b.id,
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

/** Thin: each field is one call into BuildService. */
@Resolver(() => Build)
export class BuildResolver {
  constructor(private readonly service: BuildService) {}

  @Query(() => Build, { nullable: true })
  @Roles(...READERS)
  async build(@Args('id', { type: () => ID }) id: string) {
    const b = await this.service.get(id);
    return b && toBuild(b);
  }

  @Query(() => BuildConnection, { description: 'Builds, newest first: of a pipeline, one of its stages, or a run.' })
  @Roles(...READERS)
  async builds(
    @Args('pipelineId', { type: () => ID, nullable: true }) pipelineId?: string,
    @Args('stageRefId', { type: () => ID, nullable: true }) stageRefId?: string,
    @Args('runId', { type: () => ID, nullable: true }) runId?: string,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ) {
    const page = await this.service.list({ pipelineId, stageRefId, runId, first, after });
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toBuild(e.node) })) };
  }

  @ResolveField(() => BuildLogPage, { description: 'Log lines from `offset`, at most `limit` (up to 5000).' })
  async log(@Parent() build: Build, @Args('offset', { type: () => Int, defaultValue: 0 }) offset: number, @Args('limit', { type: () => Int, defaultValue: 1000 }) limit: number): Promise<BuildLogPage> {
    const lines = await this.service.readLog(build.id, offset, limit);
    const nextOffset = lines.length ? lines[lines.length - 1].offset + 1 : offset;
    // Read the status after the lines: a finished build's log is complete before it says so.
    const now = await this.service.get(build.id);
    const finished = !!now && TERMINAL_BUILD_STATUSES.includes(now.status);
    return { lines, nextOffset, complete: finished && nextOffset >= (now?.logLines ?? 0) };
  }

  @ResolveReference()
  async reference(ref: { id: string }) {
    const b = await this.service.get(ref.id);
    return b && toBuild(b);
  }
}
