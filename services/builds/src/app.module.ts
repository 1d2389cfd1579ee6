import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@pipewright/platform';
import { BuildEntity } from './builds/build.entity';
import { BuildsModule } from './builds/builds.module';
import type { Config } from './config';
import { migrations } from './migrations';
import { buildsErrors } from './errors';

@Module({})
export class AppModule {
  static register(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService({ service: 'builds', config, errors: buildsErrors, entities: [BuildEntity], migrations }), BuildsModule.register(config)],
    };
  }
}
