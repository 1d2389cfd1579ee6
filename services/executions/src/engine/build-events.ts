import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MessageBus, type Consumer } from '@pipewright/messaging';
import { StageRunEntity } from '../runs/run.entity';
import { Engine } from './engine';
import type { StageResult } from './messages';

/** Turns the builds service's finished builds into CompleteStage messages for their Source/Build/Bake stages. */
@Injectable()
export class BuildEvents implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('BuildEvents');
  private consumer?: Consumer;

  constructor(
    private readonly bus: MessageBus,
    private readonly engine: Engine,
  ) {}

  async onApplicationBootstrap() {
    this.consumer = await this.bus.consume(['evt.builds.build.finished.v1'], { durable: 'executions-build-finished', from: 'all' }, async (e) => {
      const outputs = { ...e.outputs, ...(e.buildId ? { buildId: e.buildId } : {}) };
      // A failed build may pass on a retry (the stage's retry decides); a cancelled one is not retried.
      const result: StageResult =
        e.status === 'SUCCEEDED'
          ? { kind: 'succeeded', outputs }
          : e.status === 'CANCELED'
            ? { kind: 'canceled', reason: e.error ?? 'the build was canceled', outputs }
            : { kind: 'failed', reason: e.error ?? 'the build failed', retryable: true, outputs };
      // Acked once the message is committed: the handler checks it is the stage's current attempt.
      await this.engine.submit(async (tx) => {
        const stage = await tx.getRepository(StageRunEntity).findOneBy({ runId: e.runId, refId: e.refId });
        if (!stage) return null;
        return { kind: 'CompleteStage', runId: e.runId, refId: e.refId, payload: { attempt: stage.attempt, generation: stage.generation, source: 'build', result, buildRequestId: e.buildRequestId } };
      });
    });
    this.log.log('listening for finished builds');
  }

  async onApplicationShutdown() {
    await this.consumer?.stop();
  }
}
