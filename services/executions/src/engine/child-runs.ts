import { forwardRef, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RunEntity, type StageRunEntity } from '../runs/run.entity';
import { RunService } from '../runs/run.service';

/** RUN_PIPELINE's link to the run service: starts a child run once per stage attempt. */
@Injectable()
export class ChildRuns {
  constructor(
    private readonly ds: DataSource,
    @Inject(forwardRef(() => RunService)) private readonly runs: RunService,
  ) {}

  async start(parent: RunEntity, stage: StageRunEntity, pipelineId: string, parameters: Record<string, unknown>): Promise<string> {
    const run = await this.runs.create(pipelineId, parameters, null, { sub: parent.createdBy, roles: [] }, { runId: parent.id, refId: stage.refId, attempt: stage.attempt });
    return run.id;
  }

  async status(runId: string) {
    const run = await this.ds.getRepository(RunEntity).findOneBy({ id: runId });
    return run && { status: run.status, reason: run.reason };
  }
}
