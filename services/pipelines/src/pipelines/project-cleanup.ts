import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MessageBus, type Consumer } from '@pipewright/messaging';
import { writeOutbox } from '@pipewright/persistence';
import { DataSource } from 'typeorm';

/**
 * When a project is deleted (with force, while it still held pipelines), its pipelines are deleted
 * too (as deletePipeline does: kept for the runs that name them, never listed or run again).
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
    this.consumer = await this.bus.consume(['evt.projects.project.changed.v1'], { durable: 'pipelines-project-deleted' }, async (e) => {
      if (e.change !== 'deleted') return;
      const removed = await this.ds.transaction(async (tx) => {
        // TypeORM answers an UPDATE ... RETURNING with [rows, affected count].
        const [rows]: [{ id: string; name: string; revision: number }[], number] = await tx.query(
          `UPDATE pipelines SET deleted_at = now(), updated_at = now(), updated_by = $2 WHERE project_id = $1 AND deleted_at IS NULL RETURNING id::text, name, revision`,
          [e.id, e.by],
        );
        if (rows.length) await tx.query('DELETE FROM pipeline_references WHERE pipeline_id = ANY($1::uuid[])', [rows.map((r) => r.id)]);
        const at = new Date().toISOString();
        for (const r of rows) await writeOutbox(tx, 'evt.pipelines.pipeline.changed.v1', { id: r.id, name: r.name, revision: r.revision, change: 'deleted', by: e.by, at });
        return rows.length;
      });
      if (removed) this.log.log({ message: `project "${e.slug}" was deleted: deleted its ${removed} pipeline(s)`, projectId: e.id });
    });
  }

  async onApplicationShutdown() {
    await this.consumer?.stop();
  }
}
