import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { MessageBus, QueryError } from '@pipewright/messaging';
import type { Subscription } from 'nats';
import type { ResolvedImageRegistry } from '@pipewright/contracts';
import { KINDS } from '../kinds';
import { imageRegistryKind, registryHost } from '../kinds/image-registry.kind';
import { ResourceService } from './resource.service';

/**
 * Answers `rpc.environments.<kind>.resolve` with decrypted credentials, and
 * `rpc.environments.exists` (which of some resources do not exist, for pipeline validation). Only services on the bus
 * can ask; nothing on GraphQL reaches this.
 */
@Injectable()
export class ResolveResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private subs: Subscription[] = [];

  constructor(
    private readonly bus: MessageBus,
    private readonly resources: ResourceService,
  ) {}

  onApplicationBootstrap() {
    this.subs = [
      this.bus.answer('rpc.environments.exists', async ({ refs }) => ({ missing: await this.resources.missing(refs) })),
      this.bus.answer('rpc.environments.image-registry.for-host', async ({ host }) => ({
        registry: (await this.resources.registryForHost(imageRegistryKind, host, registryHost)) as ResolvedImageRegistry | null,
      })),
    ];
    this.subs.push(...KINDS.map((def) =>
      this.bus.answer(def.resolveSubject, async ({ id }: { id: string }) => {
        const resolved = await this.resources.resolve(def, id);
        if (!resolved) throw new QueryError('NOT_FOUND', `no ${def.label} with id "${id}"`);
        return resolved as never;
      }),
    ));
  }

  onModuleDestroy() {
    for (const s of this.subs) s.unsubscribe();
  }
}
