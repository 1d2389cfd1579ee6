import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EnvironmentKind, EventSubject } from '@pipewright/contracts';
import { MessageBus, type Consumer } from '@pipewright/messaging';
import { writeOutbox } from '@pipewright/persistence';
import { DataSource } from 'typeorm';

/**
 * When a project is deleted (with force, while it still held resources), its environment
 * resources and their sealed credentials go with it. Idempotent: a repeat finds nothing left.
 */
@Injectable()
export class ProjectCleanup implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ProjectCleanup');
  private consumer?: Consumer;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
  ) {}

  async onApplicationBootstrap() {
    this.consumer = await this.bus.consume(['evt.projects.project.changed.v1'], { durable: 'environments-project-deleted' }, async (e) => {
      if (e.change !== 'deleted') return;
      const removed = await this.ds.transaction(async (tx) => {
        // TypeORM answers a DELETE ... RETURNING with [rows, affected count].
        const [rows]: [{ id: string; name: string; kind: EnvironmentKind }[], number] = await tx.query('DELETE FROM resources WHERE project_id = $1 RETURNING id::text, name, kind', [e.id]);
        const at = new Date().toISOString();
        for (const r of rows) await writeOutbox(tx, `evt.environments.${r.kind}.changed.v1` as EventSubject, { id: r.id, name: r.name, change: 'deleted', by: e.by, at });
        return rows.length;
      });
      if (removed) this.log.log({ message: `project "${e.slug}" was deleted: removed its ${removed} environment resource(s)`, projectId: e.id });
    });
  }

  async onApplicationShutdown() {
    await this.consumer?.stop();
  }
}
