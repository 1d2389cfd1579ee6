import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { MessageBus, QueryError } from '@pipewright/messaging';
import type { Subscription } from 'nats';
import type { ResolvedImageRegistry } from '@pipewright/contracts';
import { KINDS } from '../kinds';
import { imageRegistryKind, registryHost } from '../kinds/image-registry.kind';
import { ResourceLookupService } from './resource-lookup.service';

/**
 * Answers `rpc.environments.<kind>.resolve` with decrypted credentials,
 * `rpc.environments.image-registry.for-host`, `rpc.environments.exists` (which of some resources
 * do not exist or are another project's, for pipeline validation) and
 * `rpc.environments.project.usage` (what a project holds, for deleteProject). Only services on the
 * bus can ask; nothing on GraphQL reaches this. A request with a projectId never gets a resource of
 * another project: it is answered as if that resource did not exist.
 */
@Injectable()
export class ResolveResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private subs: Subscription[] = [];

  constructor(
    private readonly bus: MessageBus,
    private readonly lookup: ResourceLookupService,
  ) {}

  onApplicationBootstrap() {
    this.subs = [
      this.bus.answer('rpc.environments.exists', ({ refs, projectId }) => this.lookup.exists(refs, projectId)),
      this.bus.answer('rpc.environments.image-registry.for-host', async ({ host, projectId }) => ({
        registry: (await this.lookup.registryForHost(imageRegistryKind, host, registryHost, projectId)) as ResolvedImageRegistry | null,
      })),
      this.bus.answer('rpc.environments.project.usage', async ({ projectId }) => ({ service: 'environments', counts: await this.lookup.usage(projectId) })),
      this.bus.answer('rpc.environments.secret.values', async ({ projectId, names }) => {
        const { values, missing } = await this.lookup.secretValues(projectId, [...new Set(names)]);
        if (missing.length) throw new QueryError('NOT_FOUND', `the project has no secret named ${missing.map((n) => `"${n}"`).join(', ')}: create it in environment settings (Secret), or fix the name in \${secrets.NAME}`);
        return { values };
      }),
    ];
    this.subs.push(
      ...KINDS.map((def) =>
        this.bus.answer(def.resolveSubject, async ({ id, projectId }: { id: string; projectId?: string }) => {
          const resolved = await this.lookup.resolve(def, id, projectId);
          // Another project's resource gets the same answer as a missing one: its existence is not told.
          if (!resolved) throw new QueryError('NOT_FOUND', `no ${def.label} with id "${id}"${projectId ? ` in project ${projectId}` : ''}`);
          return resolved as never;
        }),
      ),
    );
  }

  onModuleDestroy() {
    for (const s of this.subs) s.unsubscribe();
  }
}
