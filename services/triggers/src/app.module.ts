import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@pipewright/platform';
import type { Config } from './config';
import { triggersErrors } from './errors';
import { migrations } from './migrations';
import { DeliveryEntity, TriggerEntity } from './triggers/trigger.entity';
import { TriggersModule } from './triggers/triggers.module';

@Module({})
export class AppModule {
  static register(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService({ service: 'triggers', config, errors: triggersErrors, entities: [TriggerEntity, DeliveryEntity], migrations }), TriggersModule.register(config)],
    };
  }
}
