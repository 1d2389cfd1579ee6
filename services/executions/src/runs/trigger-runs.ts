import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { PayloadOf } from '@pipewright/contracts';
import { MessageBus, type Consumer } from '@pipewright/messaging';
import { writeOutbox } from '@pipewright/persistence';
import { DomainError } from '@pipewright/platform';
import { DataSource } from 'typeorm';
import { RunFactory } from './run-factory';

/**
 * Runs that triggers start (`cmd.executions.run.start.v1`, from the triggers service's outbox):
 * made once under the id the trigger chose. One that cannot be made (the pipeline is gone, a
 * mapped parameter is refused) is reported back with why, so the delivery says so.
 */
@Injectable()
export class TriggerRuns implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('TriggerRuns');
  private consumer?: Consumer;

  constructor(
    private readonly bus: MessageBus,
    private readonly factory: RunFactory,
    private readonly ds: DataSource,
  ) {}

  async onApplicationBootstrap() {
    this.consumer = await this.bus.consume(['cmd.executions.run.start.v1'], { durable: 'executions-run-start', from: 'all' }, (c) => this.start(c));
  }

  async onApplicationShutdown() {
    await this.consumer?.stop();
  }

  private async start(c: PayloadOf<'cmd.executions.run.start.v1'>): Promise<void> {
    // A repeat of a command whose run was made (a redelivery): nothing to do, whatever changed since.
    if (await this.factory.get(c.runId)) return;
    try {
      await this.factory.create(c.pipelineId, c.parameters, null, { sub: c.by, roles: [], projects: [], via: 'system' }, undefined, { runId: c.runId, projectId: c.projectId, artifacts: c.artifacts, trigger: c.trigger });
    } catch (err) {
      // Unavailable (pipelines did not answer): redelivered later. Anything else the run will never be.
      if (!(err instanceof DomainError) || err.code === 'UNAVAILABLE') throw err;
      this.log.warn({ message: 'a trigger\'s run was refused', runId: c.runId, triggerId: c.trigger.triggerId, error: err.message });
      await this.ds.transaction((tx) =>
        writeOutbox(tx, 'evt.executions.run.start-refused.v1', { runId: c.runId, triggerId: c.trigger.triggerId, deliveryId: c.trigger.deliveryId, reason: err.message, at: new Date().toISOString() }),
      );
    }
  }
}
