import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@pipewright/platform';
import type { Config } from './config';
import { migrations } from './migrations';
import { EngineMessageEntity, RunEntity, StageRunEntity } from './runs/run.entity';
import { RunsModule } from './runs/runs.module';
import { executionsErrors } from './errors';

@Module({})
export class AppModule {
  static register(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService({ service: 'executions', config, errors: executionsErrors, entities: [RunEntity, StageRunEntity, EngineMessageEntity], migrations }), RunsModule.register(config)],
    };
  }
}
