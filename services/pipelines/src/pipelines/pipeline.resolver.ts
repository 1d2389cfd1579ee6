import { Args, Context, ID, Int, Mutation, Query, Resolver, ResolveReference } from '@nestjs/graphql';
import { assertProjectAccess, projectOrDefault, type RequestContext } from '@pipewright/auth';
import { ConnectionType, DomainError, idArgument, optionalIdArgument, revisionArgument } from '@pipewright/platform';
import { toPipeline, toPipelinePage, toRevision } from './pipeline.mapper';
import { CreatePipelineInput, ImportMode, Pipeline, PipelineConnection, PipelineRevision, StageInput } from './pipeline.model';
import { PipelineService } from './pipeline.service';
import { fromYaml, toYaml } from './pipeline-yaml';

const PipelineRevisionConnection = ConnectionType(PipelineRevision, 'PipelineRevision');

/**
 * Thin: every operation is one call into PipelineService, which checks the caller's access in the
 * pipeline's project (reads: any member; changes: DEVELOPER or ADMIN).
 */
@Resolver(() => Pipeline)
export class PipelineResolver {
  constructor(private readonly service: PipelineService) {}

  @Query(() => Pipeline, { nullable: true, description: 'A pipeline as of a revision (default: the latest); null when there is none, FORBIDDEN when it is a project\'s you are not a member of.' })
  async pipeline(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext, @Args('revision', { type: () => Int, nullable: true }) revision?: number) {
    const view = await this.service.find(id, revisionArgument('revision', revision), ctx.identity);
    return view && toPipeline(view);
  }

  @Query(() => PipelineConnection, { description: 'A project\'s pipelines by name (default: the project named "default").' })
  async pipelines(
    @Context() ctx: RequestContext,
    @Args('projectId', { type: () => ID, nullable: true }) projectId?: string,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
    @Args('search', { type: () => String, nullable: true }) search?: string,
  ) {
    return toPipelinePage(await this.service.list(projectId, { first, after, search }, ctx.identity));
  }

  @Query(() => PipelineRevisionConnection, { description: 'Revisions, newest first.' })
  async pipelineRevisions(
    @Args('id', { type: () => ID }) id: string,
    @Context() ctx: RequestContext,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ) {
    const page = await this.service.revisions(idArgument('id', id, 'pipeline'), { first, after }, ctx.identity);
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toRevision(e.node) })) };
  }

  @Query(() => String, { description: 'The pipeline (a revision, default the latest) as YAML (without its project).' })
  async exportPipeline(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext, @Args('revision', { type: () => Int, nullable: true }) revision?: number) {
    return toYaml((await this.service.findOrThrow(idArgument('id', id, 'pipeline'), revisionArgument('revision', revision), ctx.identity)).revision.document);
  }

  @Mutation(() => Pipeline, { description: 'Needs DEVELOPER or ADMIN in the project (input.projectId, default: the project named "default").' })
  async createPipeline(@Args('input') input: CreatePipelineInput, @Context() ctx: RequestContext) {
    const { projectId, ...document } = input;
    return toPipeline(await this.service.create(optionalIdArgument('input.projectId', projectId, 'project'), document, ctx.identity));
  }

  @Mutation(() => Pipeline, { description: 'Saves a new revision; CONFLICT when the pipeline moved past expectedRevision. A pipeline stays in its project.' })
  async updatePipeline(
    @Args('id', { type: () => ID }) id: string,
    @Args('input') input: CreatePipelineInput,
    @Args('expectedRevision', { type: () => Int }) expectedRevision: number,
    @Context() ctx: RequestContext,
  ) {
    const { projectId, ...document } = input;
    return toPipeline(await this.service.update(idArgument('id', id, 'pipeline'), document, expectedRevision, ctx.identity, { projectId }));
  }

  @Mutation(() => ID)
  async deletePipeline(@Args('id', { type: () => ID }) id: string, @Context() ctx: RequestContext) {
    return (await this.service.remove(idArgument('id', id, 'pipeline'), ctx.identity)).id;
  }

  @Mutation(() => Pipeline, { description: 'Saves an old revision again as the newest one.' })
  async restorePipelineRevision(
    @Args('id', { type: () => ID }) id: string,
    @Args('revision', { type: () => Int }) revision: number,
    @Args('expectedRevision', { type: () => Int, nullable: true }) expectedRevision: number | undefined,
    @Context() ctx: RequestContext,
  ) {
    return toPipeline(await this.service.restore(idArgument('id', id, 'pipeline'), revisionArgument('revision', revision)!, expectedRevision ?? null, ctx.identity));
  }

  @Mutation(() => Pipeline, { description: 'Creates the pipeline in projectId (default: the project named "default"), or with REPLACE saves a new revision of its pipeline of that name.' })
  async importPipeline(
    @Args('yaml') yaml: string,
    @Args('mode', { type: () => ImportMode, defaultValue: ImportMode.CREATE }) mode: ImportMode,
    @Context() ctx: RequestContext,
    @Args('projectId', { type: () => ID, nullable: true }) projectIdArg?: string,
  ) {
    const projectId = projectOrDefault(projectIdArg);
    // Access first: a caller who may not import there learns nothing from parsing his YAML.
    assertProjectAccess(ctx.identity, projectId, 'write', 'import a pipeline');
    const document = fromYaml(yaml);
    const existing = mode === ImportMode.REPLACE && typeof document.name === 'string' ? await this.service.findByName(projectId, document.name) : null;
    const view = existing
      ? await this.service.update(existing.id, document, null, ctx.identity, { note: 'imported', change: 'imported' })
      : await this.service.create(projectId, document, ctx.identity, 'imported');
    return toPipeline(view);
  }

  @Mutation(() => Pipeline)
  async addStage(
    @Args('pipelineId', { type: () => ID }) pipelineId: string,
    @Args('stage') stage: StageInput,
    @Args('expectedRevision', { type: () => Int }) expectedRevision: number,
    @Args('index', { type: () => Int, nullable: true, description: 'Position in the list; default: the end.' }) index: number | undefined,
    @Context() ctx: RequestContext,
  ) {
    return toPipeline(
      await this.service.editStages(idArgument('pipelineId', pipelineId, 'pipeline'), expectedRevision, ctx.identity, (stages) => {
        stages.splice(index ?? stages.length, 0, { ...stage });
        return stages;
      }),
    );
  }

  @Mutation(() => Pipeline)
  async updateStage(
    @Args('pipelineId', { type: () => ID }) pipelineId: string,
    @Args('refId', { type: () => ID }) refId: string,
    @Args('stage') stage: StageInput,
    @Args('expectedRevision', { type: () => Int }) expectedRevision: number,
    @Context() ctx: RequestContext,
  ) {
    return toPipeline(
      await this.service.editStages(idArgument('pipelineId', pipelineId, 'pipeline'), expectedRevision, ctx.identity, (stages) => {
        const i = findStage(stages, refId);
        if (stage.refId !== refId) for (const s of stages) s.dependsOn = ((s.dependsOn as string[]) ?? []).map((d) => (d === refId ? stage.refId : d));
        stages[i] = { ...stage };
        return stages;
      }),
    );
  }

  @Mutation(() => Pipeline, { description: 'Removes a stage and the dependencies on it.' })
  async removeStage(
    @Args('pipelineId', { type: () => ID }) pipelineId: string,
    @Args('refId', { type: () => ID }) refId: string,
    @Args('expectedRevision', { type: () => Int }) expectedRevision: number,
    @Context() ctx: RequestContext,
  ) {
    return toPipeline(
      await this.service.editStages(idArgument('pipelineId', pipelineId, 'pipeline'), expectedRevision, ctx.identity, (stages) => {
        stages.splice(findStage(stages, refId), 1);
        return stages.map((s) => ({ ...s, dependsOn: ((s.dependsOn as string[]) ?? []).filter((d) => d !== refId) }));
      }),
    );
  }

  @Mutation(() => Pipeline, { description: 'Moves a stage to another position in the list (the graph is unchanged).' })
  async moveStage(
    @Args('pipelineId', { type: () => ID }) pipelineId: string,
    @Args('refId', { type: () => ID }) refId: string,
    @Args('index', { type: () => Int }) index: number,
    @Args('expectedRevision', { type: () => Int }) expectedRevision: number,
    @Context() ctx: RequestContext,
  ) {
    return toPipeline(
      await this.service.editStages(idArgument('pipelineId', pipelineId, 'pipeline'), expectedRevision, ctx.identity, (stages) => {
        if (index < 0 || index >= stages.length) throw DomainError.badInput([{ field: 'index', message: `must be between 0 and ${stages.length - 1} (got ${index})` }]);
        const [moved] = stages.splice(findStage(stages, refId), 1);
        stages.splice(index, 0, moved);
        return stages;
      }),
    );
  }

  /** Apollo calls this with (reference, context): no parameter decorators here. Checks read access too. */
  @ResolveReference()
  async reference(ref: { id: string }, ctx: RequestContext) {
    const view = await this.service.find(ref.id, null, ctx.identity);
    return view && toPipeline(view);
  }
}

function findStage(stages: Record<string, unknown>[], refId: string): number {
  const i = stages.findIndex((s) => s.refId === refId);
  if (i < 0) throw new DomainError('NOT_FOUND', `the pipeline has no stage "${refId}"`, { field: 'refId' });
  return i;
}
