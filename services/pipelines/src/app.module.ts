import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@pipewright/platform';
import type { Config } from './config';
import { migrations } from './migrations';
import { PipelineEntity, PipelineReferenceEntity, PipelineRevisionEntity } from './pipelines/pipeline.entity';
import { PipelinesModule } from './pipelines/pipelines.module';
import { pipelinesErrors } from './errors';

@Module({})
export class AppModule {
  static register(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forService({ service: 'pipelines', config, errors: pipelinesErrors, entities: [PipelineEntity, PipelineRevisionEntity, PipelineReferenceEntity], migrations }),
        PipelinesModule,
      ],
    };
  }
}
