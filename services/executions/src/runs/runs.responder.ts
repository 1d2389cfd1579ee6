import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { MessageBus } from '@pipewright/messaging';
import type { Subscription } from 'nats';
import { DataSource } from 'typeorm';

/** Answers what a project holds here (its runs), so deleteProject is refused while it has any. */
@Injectable()
export class RunsResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private sub?: Subscription;

  constructor(
    private readonly bus: MessageBus,
    private readonly ds: DataSource,
  ) {}

  onApplicationBootstrap() {
    this.sub = this.bus.answer('rpc.executions.project.usage', async ({ projectId }) => {
      const [{ n }] = await this.ds.query('SELECT count(*)::int AS n FROM runs WHERE project_id = $1', [projectId]);
      return { service: 'executions', counts: { runs: n } };
    });
  }

  onModuleDestroy() {
    this.sub?.unsubscribe();
  }
}
