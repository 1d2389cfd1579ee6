import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MessageBus, type Consumer } from '@pipewright/messaging';
import { DataSource } from 'typeorm';
import { StageRunEntity } from '../runs/run.entity';
import { buildRequestIdOf } from './ids';
import { RunState } from './run-state';

/** Completes Source/Build/Bake stages when the builds service reports their builds finished. */
@Injectable()
export class BuildEvents implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('BuildEvents');
  private consumer?: Consumer;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
    private readonly state: RunState,
  ) {}

  async onApplicationBootstrap() {
    this.consumer = await this.bus.consume(['evt.builds.build.finished.v1'], { durable: 'executions-build-finished', from: 'all' }, async (e) => {
      await this.ds.transaction(async (tx) => {
        const run = await this.state.lockRun(tx, e.runId);
        const stage = run && (await tx.getRepository(StageRunEntity).findOneBy({ runId: e.runId, refId: e.refId }));
        // Idempotent: only the attempt that asked for this build, and only while it runs. The id is
        // derived from the attempt, so an answer that beats the stage's own bookkeeping still counts.
        if (!run || !stage || stage.status !== 'RUNNING' || buildRequestIdOf(run.id, stage.refId, stage.attempt) !== e.buildRequestId) return;
        const status = e.status === 'SUCCEEDED' ? 'SUCCEEDED' : e.status === 'CANCELED' ? 'CANCELED' : 'FAILED';
        await this.state.finishStage(tx, run, stage, { status, outputs: { ...e.outputs, ...(e.buildId ? { buildId: e.buildId } : {}) }, error: e.error });
      });
    });
    this.log.log('listening for finished builds');
  }

  async onApplicationShutdown() {
    await this.consumer?.stop();
  }
}
