import { Injectable } from '@nestjs/common';
import { MessageBus } from '@pipewright/messaging';
import { writeOutbox } from '@pipewright/persistence';
import { ProjectDeletionHandler, type ProjectDeleted } from '@pipewright/platform';
import { DataSource } from 'typeorm';

/** A deleted project's pipelines are deleted too (as deletePipeline does: kept for the runs that name them). */
@Injectable()
export class ProjectCleanup extends ProjectDeletionHandler {
  constructor(
    private readonly ds: DataSource,
    bus: MessageBus,
  ) {
    super(bus, 'pipelines-project-deleted');
  }

  protected async projectDeleted(e: ProjectDeleted) {
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
  }
}
