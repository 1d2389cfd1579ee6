import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import type { PayloadOf } from '@pipewright/contracts';
import { MessageBus, type Consumer } from '@pipewright/messaging';
import { ProjectDeletionHandler, type ProjectDeleted } from '@pipewright/platform';
import type { Subscription } from 'nats';
import { DataSource } from 'typeorm';
import { storeDelivery } from './delivery-store';
import type { UpstreamEvent } from './events';

const ENDED = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED']);

/**
 * PIPELINE triggers: each end of a run is a delivery for the triggers that follow its pipeline
 * (one per end: `run:<id>:<event sequence>`, so a redelivered event starts nothing twice, and a run
 * restarted after it ended counts again when it ends again). A pipeline deleted takes its triggers
 * with it.
 */
@Injectable()
export class UpstreamRuns implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('UpstreamRuns');
  private consumers: Consumer[] = [];
  private readonly names = new Map<string, string>();

  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
  ) {}

  async onApplicationBootstrap() {
    this.consumers.push(await this.bus.consume(['evt.executions.run.status-changed.v1'], { durable: 'triggers-run-ended' }, (e) => this.runChanged(e)));
    this.consumers.push(await this.bus.consume(['evt.pipelines.pipeline.changed.v1'], { durable: 'triggers-pipeline-changed' }, (e) => this.pipelineChanged(e)));
  }

  async onApplicationShutdown() {
    await Promise.all(this.consumers.map((c) => c.stop()));
  }

  private async pipelineName(id: string): Promise<string | undefined> {
    if (this.names.has(id)) return this.names.get(id);
    const name = await this.bus
      .request('rpc.pipelines.pipeline.snapshot', { pipelineId: id }, { timeoutMs: 3000 })
      .then((s) => s.document.name)
      .catch(() => undefined);
    if (name) this.names.set(id, name);
    return name;
  }

  private async runChanged(e: PayloadOf<'evt.executions.run.status-changed.v1'>): Promise<void> {
    if (!ENDED.has(e.status)) return;
    const followers: { id: string; project_id: string }[] = await this.ds.query(`SELECT id, project_id FROM triggers WHERE type = 'PIPELINE' AND config->>'pipelineId' = $1`, [e.pipelineId]);
    if (!followers.length) return;
    const event: UpstreamEvent = { runId: e.runId, pipelineId: e.pipelineId, pipelineName: await this.pipelineName(e.pipelineId), number: e.number, status: e.status };
    await this.ds.transaction(async (tx) => {
      for (const f of followers) {
        await storeDelivery(tx, { triggerId: f.id, projectId: f.project_id, dedupeKey: `run:${e.runId}:${e.sequence}`, providerDeliveryId: e.runId, event: 'pipeline', payload: event });
      }
    });
  }

  private async pipelineChanged(e: PayloadOf<'evt.pipelines.pipeline.changed.v1'>): Promise<void> {
    this.names.delete(e.id);
    if (e.change !== 'deleted') return;
    const removed = await this.ds.query(`DELETE FROM triggers WHERE pipeline_id = $1 OR (type = 'PIPELINE' AND config->>'pipelineId' = $1) RETURNING id`, [e.id]);
    if (removed[0]?.length) this.log.log({ message: `pipeline ${e.id} was deleted: its triggers (and those following it) went with it`, count: removed[0].length });
  }
}

/** A project deleted (by force) takes its triggers and their deliveries. */
@Injectable()
export class TriggersProjectCleanup extends ProjectDeletionHandler {
  constructor(
    bus: MessageBus,
    private readonly ds: DataSource,
  ) {
    super(bus, 'triggers-project-deleted');
  }

  protected async projectDeleted(e: ProjectDeleted): Promise<void> {
    await this.ds.query(`DELETE FROM triggers WHERE project_id = $1`, [e.id]);
  }
}

/** Answers what a project holds here (its triggers), so deleteProject is refused while it has any. */
@Injectable()
export class TriggersResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private sub?: Subscription;

  constructor(
    private readonly bus: MessageBus,
    private readonly ds: DataSource,
  ) {}

  onApplicationBootstrap() {
    this.sub = this.bus.answer('rpc.triggers.project.usage', async ({ projectId }) => {
      const [{ n }] = await this.ds.query('SELECT count(*)::int AS n FROM triggers WHERE project_id = $1', [projectId]);
      return { service: 'triggers', counts: { triggers: n } };
    });
  }

  onModuleDestroy() {
    this.sub?.unsubscribe();
  }
}
