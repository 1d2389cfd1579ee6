import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { MessageBus } from '@pipewright/messaging';
import type { Subscription } from 'nats';
import { DataSource } from 'typeorm';

/** Answers what a project holds here (its builds), so deleteProject is refused while it has any. */
@Injectable()
export class BuildsResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private sub?: Subscription;

  constructor(
    private readonly bus: MessageBus,
    private readonly ds: DataSource,
  ) {}

  onApplicationBootstrap() {
    this.sub = this.bus.answer('rpc.builds.project.usage', async ({ projectId }) => {
      const [{ n }] = await this.ds.query('SELECT count(*)::int AS n FROM builds WHERE project_id = $1', [projectId]);
      return { service: 'builds', counts: { builds: n } };
    });
  }

  onModuleDestroy() {
    this.sub?.unsubscribe();
  }
}
