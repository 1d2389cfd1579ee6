import { Args, Context, ID, Int, Mutation, Query, Resolver, ResolveReference } from '@nestjs/graphql';
import type { RequestContext } from '@pipewright/auth';
import { assertProjectAccess } from '@pipewright/auth';
import { ConnectionType, idArgument, optionalIdArgument, revisionArgument, type Connection } from '@pipewright/platform';
import GraphQLJSON from 'graphql-type-json';
import { ExecutionsError } from '../errors';
import { projectScope } from './project-scope';
import type { RunEntity, StageRunEntity } from './run.entity';
import { Decision, Run, RunStatus, StageRun } from './run.model';
import { RunService } from './run.service';

export const RunConnection = ConnectionType(Run, 'Run');

export function toStageRun(s: StageRunEntity): StageRun {
  return {
    refId: s.refId,
    name: s.name,
    type: s.type,
    status: s.status as StageRun['status'],
    attempt: s.attempt,
    outputs: s.outputs,
    error: s.error,
    prompt: s.status === 'WAITING' ? (s.state.prompt ?? null) : null,
    decision: s.decision as StageRun['decision'],
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    restartedBy: s.restartedBy,
    restartedAt: s.restartedAt,
  };
}

/** The GraphQL shape of a run and its stages. */
export function toRun(r: RunEntity, stages: StageRunEntity[]): Run {
  return {
    id: r.id,
    projectId: r.projectId,
    project: { id: r.projectId },
    number: r.number,
    status: r.status as RunStatus,
    pipelineId: r.pipelineId,
    pipeline: { id: r.pipelineId },
    pipelineName: r.pipelineName,
    revision: r.revision,
    parameters: r.parameters,
    artifacts: r.artifacts,
    stages: stages.map(toStageRun),
    reason: r.reason,
    sequence: r.sequence,
    parentRunId: r.parentRunId,
    createdBy: r.createdBy,
    trigger: r.trigger ?? null,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  };
}

/** Runs with their stages (one query for all the stages). */
export async function toRuns(service: RunService, runs: RunEntity[]): Promise<Run[]> {
  const stagesByRun = await service.stagesOf(runs.map((r) => r.id));
  return runs.map((r) => toRun(r, stagesByRun.get(r.id)!));
}

/** A page of run entities as a page of GraphQL runs. */
export async function toRunPage(service: RunService, page: Connection<RunEntity>): Promise<Connection<Run>> {
  const nodes = await toRuns(service, page.edges.map((e) => e.node));
  return { ...page, edges: page.edges.map((e, i) => ({ cursor: e.cursor, node: nodes[i] })) };
}

/**
 * Thin: each operation is one call into RunService. Access is per project (the run's): reading
 * needs membership, running and deciding need the roles RunService checks.
 */
@Resolver(() => Run)
export class RunResolver {
  constructor(private readonly service: RunService) {}

  private async one(r: RunEntity): Promise<Run> {
    return (await toRuns(this.service, [r]))[0];
  }

  @Query(() => Run, { nullable: true, description: "A run; FORBIDDEN unless you are a member of its project." })
  async run(
    @Args('id', { type: () => ID }) id: string,
    @Args('atSequence', { type: () => Int, nullable: true, description: 'The run as it was right after this event sequence (kept RUN_HISTORY_HOURS after the run ends).' })
    atSequence: number | null | undefined,
    @Context() ctx: RequestContext,
  ) {
    idArgument('id', id, 'run');
    if (atSequence === undefined || atSequence === null) {
      const r = await this.service.getReadable(id, ctx.identity);
      return r && this.one(r);
    }
    const past = await this.service.at(id, atSequence);
    if (!past) {
      // Not recorded (or no such run): a run of another project still answers FORBIDDEN, never more.
      await this.service.getReadable(id, ctx.identity);
      throw new ExecutionsError('STATE_NOT_RECORDED', `run ${id} has no recorded state at sequence ${atSequence}: it never reached it, or the history was dropped RUN_HISTORY_HOURS after the run ended; query without atSequence for the current state`, {
        field: 'atSequence',
      });
    }
    assertProjectAccess(ctx.identity, past.run.projectId, 'read', `read run ${past.run.number} of "${past.run.pipelineName}"`);
    return toRun(past.run, past.stages);
  }

  @Query(() => RunConnection, {
    description: 'Runs, newest first: of a project (default: the project named `default`), or of a pipeline (then of every project you may read unless projectId is given).',
  })
  async runs(
    @Args('projectId', { type: () => ID, nullable: true }) projectId: string | undefined,
    @Args('pipelineId', { type: () => ID, nullable: true }) pipelineId: string | undefined,
    @Args('status', { type: () => RunStatus, nullable: true }) status: RunStatus | undefined,
    @Args('first', { type: () => Int, nullable: true }) first: number | undefined,
    @Args('after', { type: () => String, nullable: true }) after: string | undefined,
    @Context() ctx: RequestContext,
  ) {
    optionalIdArgument('pipelineId', pipelineId, 'pipeline');
    const scope = projectScope(ctx.identity, projectId, !!pipelineId, 'list its runs');
    return toRunPage(this.service, await this.service.list(scope, { pipelineId, status, first, after }));
  }

  @Mutation(() => Run, { description: "Runs a frozen snapshot of a revision (default: the latest), in the pipeline's project; needs DEVELOPER or ADMIN there." })
  async runPipeline(
    @Args('pipelineId', { type: () => ID }) pipelineId: string,
    @Args('parameters', { type: () => GraphQLJSON, nullable: true }) parameters: unknown,
    @Args('revision', { type: () => Int, nullable: true }) revision: number | undefined,
    @Context() ctx: RequestContext,
  ) {
    return this.one(await this.service.create(idArgument('pipelineId', pipelineId, 'pipeline'), parameters, revisionArgument('revision', revision), ctx.identity));
  }

  @Mutation(() => Run, { description: "Cancels a run and its child runs; needs DEVELOPER or ADMIN in the run's project." })
  async cancelRun(@Args('runId', { type: () => ID }) runId: string, @Args('reason', { type: () => String, nullable: true }) reason: string | undefined, @Context() ctx: RequestContext) {
    return this.one(await this.service.cancel(idArgument('runId', runId, 'run'), reason ?? null, ctx.identity));
  }

  @Mutation(() => Run, { description: "Runs a finished stage again with everything downstream of it; records who and when. Needs DEVELOPER or ADMIN in the run's project." })
  async restartStage(@Args('runId', { type: () => ID }) runId: string, @Args('refId', { type: () => ID }) refId: string, @Context() ctx: RequestContext) {
    return this.one(await this.service.restartStage(idArgument('runId', runId, 'run'), refId, ctx.identity));
  }

  @Mutation(() => StageRun, { description: "Decides a waiting JUDGEMENT: CONTINUE with one of its options, or STOP the run. Needs DEVELOPER or ADMIN in the run's project." })
  async judge(
    @Args('runId', { type: () => ID }) runId: string,
    @Args('refId', { type: () => ID }) refId: string,
    @Args('decision', { type: () => Decision }) decision: Decision,
    @Args('value', { type: () => String, nullable: true }) value: string | undefined,
    @Context() ctx: RequestContext,
  ) {
    return toStageRun(await this.service.decide(idArgument('runId', runId, 'run'), refId, 'JUDGEMENT', { decision, value: value ?? null, comment: null }, ctx.identity));
  }

  @Mutation(() => StageRun, {
    description: "Decides a waiting APPROVAL: only the stage's approvers may (by default members of the run's project with APPROVAL_ADMIN; a platform ADMIN may not). Who and when are recorded.",
  })
  async approve(
    @Args('runId', { type: () => ID }) runId: string,
    @Args('refId', { type: () => ID }) refId: string,
    @Args('decision', { type: () => Decision }) decision: Decision,
    @Args('comment', { type: () => String, nullable: true }) comment: string | undefined,
    @Context() ctx: RequestContext,
  ) {
    return toStageRun(await this.service.decide(idArgument('runId', runId, 'run'), refId, 'APPROVAL', { decision, value: null, comment: comment ?? null }, ctx.identity));
  }

  /** A run reached through another subgraph (e.g. Build.run): read access is checked here too. */
  @ResolveReference()
  async reference(ref: { id: string }, ctx: RequestContext) {
    const r = await this.service.getReadable(ref.id, ctx.identity);
    return r && this.one(r);
  }
}
