import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '../config';
import { secretBoxFrom } from '../config';
import { KINDS } from '../kinds';
import { ENVIRONMENTS_CONFIG, SECRET_BOX } from '../tokens';
import { ProjectRefResolver } from '../projects/project-ref.resolver';
import { createKindResolvers } from './kind.resolver';
import { ProjectCleanup } from './project-cleanup';
import { ResolveResponder } from './resolve.responder';
import { ResourceLookupService } from './resource-lookup.service';
import { ResourceService } from './resource.service';

@Module({})
export class ResourcesModule {
  static register(config: Config): DynamicModule {
    return {
      module: ResourcesModule,
      providers: [
        { provide: ENVIRONMENTS_CONFIG, useValue: config },
        { provide: SECRET_BOX, useValue: secretBoxFrom(config) },
        ResourceService,
        ResourceLookupService,
        ResolveResponder,
        ProjectCleanup,
        ProjectRefResolver,
        ...KINDS.flatMap(createKindResolvers),
      ],
      exports: [ResourceService],
    };
  }
}
