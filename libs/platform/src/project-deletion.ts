import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { PayloadOf } from '@pipewright/contracts';
import type { Consumer, MessageBus } from '@pipewright/messaging';

export type ProjectDeleted = PayloadOf<'evt.projects.project.changed.v1'>;

/**
 * What a service does when a project is deleted (with force, while it still held something): a
 * durable JetStream consumer of `evt.projects.project.changed.v1` that calls `projectDeleted` for
 * each deletion. The handler must be idempotent (a redelivery finds nothing left to do).
 */
export abstract class ProjectDeletionHandler implements OnApplicationBootstrap, OnApplicationShutdown {
  protected readonly log = new Logger('ProjectCleanup');
  private consumer?: Consumer;

  protected constructor(
    protected readonly bus: MessageBus,
    private readonly durable: string,
  ) {}

  protected abstract projectDeleted(e: ProjectDeleted): Promise<void>;

  async onApplicationBootstrap() {
    this.consumer = await this.bus.consume(['evt.projects.project.changed.v1'], { durable: this.durable }, async (e) => {
      if (e.change === 'deleted') await this.projectDeleted(e);
    });
  }

  async onApplicationShutdown() {
    await this.consumer?.stop();
  }
}
