import { Args, Context, ID, Int, Mutation, Query, Resolver, ResolveReference } from '@nestjs/graphql';
import { Roles, type RequestContext } from '@pipewright/auth';
import { Role } from '@pipewright/contracts';
import { ConnectionType, DomainError } from '@pipewright/platform';
import GraphQLJSON from 'graphql-type-json';
import type { RunEntity, StageRunEntity } from './run.entity';
import { Decision, Run, RunStatus, StageRun } from './run.model';
import { RunService } from './run.service';

const READERS = [Role.VIEWER, Role.DEVELOPER, Role.APPROVAL_ADMIN];
const RUNNERS = [Role.DEVELOPER, Role.ADMIN];
const RunConnection = ConnectionType(Run, 'Run');

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

/** Thin: each operation is one call into RunService. */
@Resolver(() => Run)
export class RunResolver {
  constructor(private readonly service: RunService) {}

  private async toRun(r: RunEntity): Promise<Run> {
    return (await this.toRuns([r]))[0];
  }

  private async toRuns(runs: RunEntity[]): Promise<Run[]> {
    const stagesByRun = await this.service.stagesOf(runs.map((r) => r.id));
    return runs.map((r) => this.shape(r, stagesByRun.get(r.id)!));
  }

  private shape(r: RunEntity, stages: StageRunEntity[]): Run {
    return {
      id: r.id,
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
      createdAt: r.createdAt,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
    };
  }

  @Query(() => Run, { nullable: true })
  @Roles(...READERS)
  async run(
    @Args('id', { type: () => ID }) id: string,
    @Args('atSequence', { type: () => Int, nullable: true, description: 'The run as it was right after this event sequence (kept RUN_HISTORY_HOURS after the run ends).' })
    atSequence?: number | null,
  ) {
    if (atSequence === undefined || atSequence === null) {
      const r = await this.service.get(id);
      return r && this.toRun(r);
    }
    const past = await this.service.at(id, atSequence);
    if (!past) {
      throw new DomainError('NOT_FOUND', `run ${id} has no recorded state at sequence ${atSequence}: it never reached it, or the history was dropped RUN_HISTORY_HOURS after the run ended; query without atSequence for the current state`, {
        field: 'atSequence',
        reason: 'STATE_NOT_RECORDED',
      });
    }
    return this.shape(past.run, past.stages);
  }

  @Query(() => RunConnection, { description: 'Runs, newest first.' })
  @Roles(...READERS)
  async runs(
    @Args('pipelineId', { type: () => ID, nullable: true }) pipelineId?: string,
    @Args('status', { type: () => RunStatus, nullable: true }) status?: RunStatus,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ) {
    const page = await this.service.list({ pipelineId, status, first, after });
    const nodes = await this.toRuns(page.edges.map((e) => e.node));
    return { ...page, edges: page.edges.map((e, i) => ({ cursor: e.cursor, node: nodes[i] })) };
  }

  @Mutation(() => Run, { description: 'Runs a frozen snapshot of a revision (default: the latest).' })
  @Roles(...RUNNERS)
  async runPipeline(
    @Args('pipelineId', { type: () => ID }) pipelineId: string,
    @Args('parameters', { type: () => GraphQLJSON, nullable: true }) parameters: unknown,
    @Args('revision', { type: () => Int, nullable: true }) revision: number | undefined,
    @Context() ctx: RequestContext,
  ) {
    return this.toRun(await this.service.create(pipelineId, parameters, revision ?? null, ctx.identity));
  }

  @Mutation(() => Run)
  @Roles(...RUNNERS)
  async cancelRun(@Args('runId', { type: () => ID }) runId: string, @Args('reason', { type: () => String, nullable: true }) reason: string | undefined, @Context() ctx: RequestContext) {
    return this.toRun(await this.service.cancel(runId, reason ?? null, ctx.identity));
  }

  @Mutation(() => Run, { description: 'Runs a finished stage again with everything downstream of it; records who and when.' })
  @Roles(...RUNNERS)
  async restartStage(@Args('runId', { type: () => ID }) runId: string, @Args('refId', { type: () => ID }) refId: string, @Context() ctx: RequestContext) {
    return this.toRun(await this.service.restartStage(runId, refId, ctx.identity));
  }

  @Mutation(() => StageRun, { description: 'Decides a waiting JUDGEMENT: CONTINUE with one of its options, or STOP the run.' })
  @Roles(...RUNNERS)
  async judge(
    @Args('runId', { type: () => ID }) runId: string,
    @Args('refId', { type: () => ID }) refId: string,
    @Args('decision', { type: () => Decision }) decision: Decision,
    @Args('value', { type: () => String, nullable: true }) value: string | undefined,
    @Context() ctx: RequestContext,
  ) {
    return toStageRun(await this.service.decide(runId, refId, 'JUDGEMENT', { decision, value: value ?? null, comment: null, by: ctx.identity.sub }));
  }

  @Mutation(() => StageRun, { description: 'Decides a waiting APPROVAL; only APPROVAL_ADMIN may.' })
  @Roles(Role.APPROVAL_ADMIN)
  async approve(
    @Args('runId', { type: () => ID }) runId: string,
    @Args('refId', { type: () => ID }) refId: string,
    @Args('decision', { type: () => Decision }) decision: Decision,
    @Args('comment', { type: () => String, nullable: true }) comment: string | undefined,
    @Context() ctx: RequestContext,
  ) {
    return toStageRun(await this.service.decide(runId, refId, 'APPROVAL', { decision, value: null, comment: comment ?? null, by: ctx.identity.sub }));
  }

  @ResolveReference()
  async reference(ref: { id: string }) {
    const r = await this.service.get(ref.id);
    return r && this.toRun(r);
  }
}
