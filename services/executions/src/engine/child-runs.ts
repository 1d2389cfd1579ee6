import { Injectable } from '@nestjs/common';
import type { RunEntity, StageRunEntity } from '../runs/run.entity';
import { RunFactory } from '../runs/run-factory';

/** RUN_PIPELINE's link to runs: starts a child run once per stage attempt, in the parent's project. */
@Injectable()
export class ChildRuns {
  constructor(private readonly runs: RunFactory) {}

  async start(parent: RunEntity, stage: StageRunEntity, pipelineId: string, parameters: Record<string, unknown>): Promise<string> {
    const run = await this.runs.create(pipelineId, parameters, null, { sub: parent.createdBy, roles: [], projects: [], via: 'system' }, {
      runId: parent.id,
      projectId: parent.projectId,
      refId: stage.refId,
      attempt: stage.attempt,
      generation: stage.generation,
    });
    return run.id;
  }

  async status(runId: string) {
    const run = await this.runs.get(runId);
    return run && { status: run.status, reason: run.reason };
  }
}
