import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MessageBus, type Consumer } from '@pipewright/messaging';
import { DataSource } from 'typeorm';
import { RunService } from './run.service';

/** When a project is deleted (with force), its runs that are still going are canceled, saying why. */
@Injectable()
export class ProjectCleanup implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ProjectCleanup');
  private consumer?: Consumer;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
    private readonly runs: RunService,
  ) {}

  async onApplicationBootstrap() {
    this.consumer = await this.bus.consume(['evt.projects.project.changed.v1'], { durable: 'executions-project-deleted' }, async (e) => {
      if (e.change !== 'deleted') return;
      const active: { id: string }[] = await this.ds.query(`SELECT id::text FROM runs WHERE project_id = $1 AND status IN ('QUEUED', 'RUNNING', 'WAITING') ORDER BY created_at`, [e.id]);
      for (const { id } of active) await this.runs.cancelForProjectDeletion(id, `project "${e.slug}" was deleted by ${e.by}`);
      if (active.length) this.log.log({ message: `project "${e.slug}" was deleted: canceled its ${active.length} active run(s)`, projectId: e.id });
    });
  }

  async onApplicationShutdown() {
    await this.consumer?.stop();
  }
}
