import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '../config';
import { secretBoxFrom } from '../config';
import { KINDS } from '../kinds';
import { ENVIRONMENTS_CONFIG, SECRET_BOX } from '../tokens';
import { createKindResolver } from './kind.resolver';
import { ResolveResponder } from './resolve.responder';
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
        ResolveResponder,
        ...KINDS.map(createKindResolver),
      ],
      exports: [ResourceService],
    };
  }
}
