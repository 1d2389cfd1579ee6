import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { MessageBus, QueryError } from '@pipewright/messaging';
import type { Subscription } from 'nats';
import { PipelineReferenceService } from './pipeline-references.service';
import { PipelineService } from './pipeline.service';

/** Answers the pipelines service's questions on the bus: references, run snapshots, what a project holds. */
@Injectable()
export class PipelinesResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private subs: Subscription[] = [];

  constructor(
    private readonly bus: MessageBus,
    private readonly pipelines: PipelineService,
    private readonly references: PipelineReferenceService,
  ) {}

  onApplicationBootstrap() {
    this.subs = [
      this.bus.answer('rpc.pipelines.references', async ({ kind, id }) => ({ pipelines: await this.references.referencing(kind, id) })),
      this.bus.answer('rpc.pipelines.pipeline.snapshot', async ({ pipelineId, revision }) => {
        const found = await this.pipelines.snapshot(pipelineId, revision ?? null);
        if (!found) throw new QueryError('NOT_FOUND', revision ? `pipeline ${pipelineId} has no revision ${revision}` : `no pipeline with id "${pipelineId}"`);
        return { pipelineId, ...found };
      }),
      this.bus.answer('rpc.pipelines.project.usage', async ({ projectId }) => ({ service: 'pipelines', counts: { pipelines: await this.pipelines.usage(projectId) } })),
    ];
  }

  onModuleDestroy() {
    for (const s of this.subs) s.unsubscribe();
  }
}
