import { Injectable } from '@nestjs/common';
import type { EnvironmentKind, EventSubject } from '@pipewright/contracts';
import { MessageBus } from '@pipewright/messaging';
import { writeOutbox } from '@pipewright/persistence';
import { ProjectDeletionHandler, type ProjectDeleted } from '@pipewright/platform';
import { DataSource } from 'typeorm';

/** A deleted project's environment resources, and their sealed credentials, go with it. */
@Injectable()
export class ProjectCleanup extends ProjectDeletionHandler {
  constructor(
    private readonly ds: DataSource,
    bus: MessageBus,
  ) {
    super(bus, 'environments-project-deleted');
  }

  protected async projectDeleted(e: ProjectDeleted) {
    const removed = await this.ds.transaction(async (tx) => {
      // TypeORM answers a DELETE ... RETURNING with [rows, affected count].
      const [rows]: [{ id: string; name: string; kind: EnvironmentKind }[], number] = await tx.query('DELETE FROM resources WHERE project_id = $1 RETURNING id::text, name, kind', [e.id]);
      const at = new Date().toISOString();
      for (const r of rows) await writeOutbox(tx, `evt.environments.${r.kind}.changed.v1` as EventSubject, { id: r.id, name: r.name, change: 'deleted', by: e.by, at });
      return rows.length;
    });
    if (removed) this.log.log({ message: `project "${e.slug}" was deleted: removed its ${removed} environment resource(s)`, projectId: e.id });
  }
}
