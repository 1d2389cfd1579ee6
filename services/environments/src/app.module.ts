import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@pipewright/platform';
import type { Config } from './config';
import { migrations } from './migrations';
import { ResourceEntity } from './resources/resource.entity';
import { ResourcesModule } from './resources/resources.module';
import { environmentsErrors } from './errors';

@Module({})
export class AppModule {
  static register(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService({ service: 'environments', config, errors: environmentsErrors, entities: [ResourceEntity], migrations }), ResourcesModule.register(config)],
    };
  }
}
