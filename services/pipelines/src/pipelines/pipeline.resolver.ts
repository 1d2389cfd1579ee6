import { Args, Context, ID, Int, Mutation, Query, Resolver, ResolveReference } from '@nestjs/graphql';
import { Roles, type RequestContext } from '@pipewright/auth';
import { Role } from '@pipewright/contracts';
import { ConnectionType, DomainError } from '@pipewright/platform';
import { toPipeline, toRevision } from './pipeline.mapper';
import { CreatePipelineInput, ImportMode, Pipeline, PipelineRevision, StageInput } from './pipeline.model';
import { PipelineService } from './pipeline.service';
import { fromYaml, toYaml } from './pipeline-yaml';

const READERS = [Role.VIEWER, Role.DEVELOPER, Role.APPROVAL_ADMIN];
const WRITERS = [Role.DEVELOPER, Role.ADMIN];

const PipelineConnection = ConnectionType(Pipeline, 'Pipeline');
const PipelineRevisionConnection = ConnectionType(PipelineRevision, 'PipelineRevision');

/** Thin: every operation is one call into PipelineService. */
@Resolver(() => Pipeline)
export class PipelineResolver {
  constructor(private readonly service: PipelineService) {}

  @Query(() => Pipeline, { nullable: true, description: 'A pipeline as of a revision (default: the latest); null when there is none.' })
  @Roles(...READERS)
  async pipeline(@Args('id', { type: () => ID }) id: string, @Args('revision', { type: () => Int, nullable: true }) revision?: number) {
    const view = await this.service.get(id, revision);
    return view && toPipeline(view);
  }

  @Query(() => PipelineConnection)
  @Roles(...READERS)
  async pipelines(
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
    @Args('search', { type: () => String, nullable: true }) search?: string,
  ) {
    const page = await this.service.list({ first, after, search });
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toPipeline(e.node) })) };
  }

  @Query(() => PipelineRevisionConnection, { description: 'Revisions, newest first.' })
  @Roles(...READERS)
  async pipelineRevisions(
    @Args('id', { type: () => ID }) id: string,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ) {
    const page = await this.service.revisions(id, { first, after });
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toRevision(e.node) })) };
  }

  @Query(() => String, { description: 'The pipeline (a revision, default the latest) as YAML.' })
  @Roles(...READERS)
  async exportPipeline(@Args('id', { type: () => ID }) id: string, @Args('revision', { type: () => Int, nullable: true }) revision?: number) {
    return toYaml((await this.service.getOrThrow(id, revision)).revision.document);
  }

  @Mutation(() => Pipeline)
  @Roles(...WRITERS)
  async createPipeline(@Args('input') input: CreatePipelineInput, @Context() ctx: RequestContext) {
    return toPipeline(await this.service.create(input, ctx.identity));
  }

  @Mutation(() => Pipeline, { description: 'Saves a new revision; CONFLICT when the pipeline moved past expectedRevision.' })
  @Roles(...WRITERS)
  async updatePipeline(
    @Args('id', { type: () => ID }) id: string,
    @Args('input') input: CreatePipelineInput,
    @Args('expectedRevision', { type: () => Int }) expectedRevision: number,
    @Context() ctx: RequestContext,
  ) {
    return toPipeline(await this.service.update(id, input, expectedRevision, ctx.identity));
  }

  @Mutation(() => ID)
  @Roles(...WRITERS)
  async deletePipeline(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext) {
    return (await this.service.remove(id, ctx.identity)).id;
  }

  @Mutation(() => Pipeline, { description: 'Saves an old revision again as the newest one.' })
  @Roles(...WRITERS)
  async restorePipelineRevision(
    @Args('id', { type: () => ID }) id: string,
    @Args('revision', { type: () => Int }) revision: number,
    @Args('expectedRevision', { type: () => Int, nullable: true }) expectedRevision: number | undefined,
    @Context() ctx: RequestContext,
  ) {
    return toPipeline(await this.service.restore(id, revision, expectedRevision ?? null, ctx.identity));
  }

  @Mutation(() => Pipeline)
  @Roles(...WRITERS)
  async importPipeline(@Args('yaml') yaml: string, @Args('mode', { type: () => ImportMode, defaultValue: ImportMode.CREATE }) mode: ImportMode, @Context() ctx: RequestContext) {
    const document = fromYaml(yaml);
    const existing = mode === ImportMode.REPLACE && typeof document.name === 'string' ? await this.service.findByName(document.name) : null;
    const view = existing
      ? await this.service.update(existing.id, document, null, ctx.identity, 'imported', 'imported')
      : await this.service.create(document, ctx.identity, 'imported');
    return toPipeline(view);
  }

  @Mutation(() => Pipeline)
  @Roles(...WRITERS)
  async addStage(
    @Args('pipelineId', { type: () => ID }) pipelineId: string,
    @Args('stage') stage: StageInput,
    @Args('expectedRevision', { type: () => Int }) expectedRevision: number,
    @Args('index', { type: () => Int, nullable: true, description: 'Position in the list; default: the end.' }) index: number | undefined,
    @Context() ctx: RequestContext,
  ) {
    return toPipeline(
      await this.service.editStages(pipelineId, expectedRevision, ctx.identity, (stages) => {
        stages.splice(index ?? stages.length, 0, { ...stage });
        return stages;
      }),
    );
  }

  @Mutation(() => Pipeline)
  @Roles(...WRITERS)
  async updateStage(
    @Args('pipelineId', { type: () => ID }) pipelineId: string,
    @Args('refId', { type: () => ID }) refId: string,
    @Args('stage') stage: StageInput,
    @Args('expectedRevision', { type: () => Int }) expectedRevision: number,
    @Context() ctx: RequestContext,
  ) {
    return toPipeline(
      await this.service.editStages(pipelineId, expectedRevision, ctx.identity, (stages) => {
        const i = findStage(stages, refId);
        if (stage.refId !== refId) for (const s of stages) s.dependsOn = ((s.dependsOn as string[]) ?? []).map((d) => (d === refId ? stage.refId : d));
        stages[i] = { ...stage };
        return stages;
      }),
    );
  }

  @Mutation(() => Pipeline, { description: 'Removes a stage and the dependencies on it.' })
  @Roles(...WRITERS)
  async removeStage(
    @Args('pipelineId', { type: () => ID }) pipelineId: string,
    @Args('refId', { type: () => ID }) refId: string,
    @Args('expectedRevision', { type: () => Int }) expectedRevision: number,
    @Context() ctx: RequestContext,
  ) {
    return toPipeline(
      await this.service.editStages(pipelineId, expectedRevision, ctx.identity, (stages) => {
        stages.splice(findStage(stages, refId), 1);
        return stages.map((s) => ({ ...s, dependsOn: ((s.dependsOn as string[]) ?? []).filter((d) => d !== refId) }));
      }),
    );
  }

  @Mutation(() => Pipeline, { description: 'Moves a stage to another position in the list (the graph is unchanged).' })
  @Roles(...WRITERS)
  async moveStage(
    @Args('pipelineId', { type: () => ID }) pipelineId: string,
    @Args('refId', { type: () => ID }) refId: string,
    @Args('index', { type: () => Int }) index: number,
    @Args('expectedRevision', { type: () => Int }) expectedRevision: number,
    @Context() ctx: RequestContext,
  ) {
    return toPipeline(
      await this.service.editStages(pipelineId, expectedRevision, ctx.identity, (stages) => {
        if (index < 0 || index >= stages.length) throw DomainError.badInput([{ field: 'index', message: `must be between 0 and ${stages.length - 1} (got ${index})` }]);
        const [moved] = stages.splice(findStage(stages, refId), 1);
        stages.splice(index, 0, moved);
        return stages;
      }),
    );
  }

  @ResolveReference()
  async reference(ref: { id: string }) {
    const view = await this.service.get(ref.id);
    return view && toPipeline(view);
  }
}

function findStage(stages: Record<string, unknown>[], refId: string): number {
  const i = stages.findIndex((s) => s.refId === refId);
  if (i < 0) throw new DomainError('NOT_FOUND', `the pipeline has no stage "${refId}"`, { field: 'refId' });
  return i;
}
