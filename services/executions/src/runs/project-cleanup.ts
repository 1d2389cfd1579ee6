import { Injectable } from '@nestjs/common';
import { MessageBus } from '@pipewright/messaging';
import { ProjectDeletionHandler, type ProjectDeleted } from '@pipewright/platform';
import { DataSource } from 'typeorm';
import { RunService } from './run.service';

/** A deleted project's runs that are still going are canceled, saying why. */
@Injectable()
export class ProjectCleanup extends ProjectDeletionHandler {
  constructor(
    private readonly ds: DataSource,
    bus: MessageBus,
    private readonly runs: RunService,
  ) {
    super(bus, 'executions-project-deleted');
  }

  protected async projectDeleted(e: ProjectDeleted) {
    const active: { id: string }[] = await this.ds.query(`SELECT id::text FROM runs WHERE project_id = $1 AND status IN ('QUEUED', 'RUNNING', 'WAITING') ORDER BY created_at`, [e.id]);
    for (const { id } of active) await this.runs.cancelForProjectDeletion(id, `project "${e.slug}" was deleted by ${e.by}`);
    if (active.length) this.log.log({ message: `project "${e.slug}" was deleted: canceled its ${active.length} active run(s)`, projectId: e.id });
  }
}
