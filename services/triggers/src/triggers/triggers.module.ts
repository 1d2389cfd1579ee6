import { Module, type DynamicModule } from '@nestjs/common';
import { SecretBox } from '@pipewright/platform';
import { TRIGGERS_CONFIG, type Config } from '../config';
import { HooksController } from '../hooks/hooks.controller';
import { Scheduler } from '../schedule/scheduler';
import { DeliveryProcessor } from './delivery-processor';
import { TriggersProjectCleanup, TriggersResponder, UpstreamRuns } from './upstream-runs';
import { PipelineTriggersResolver, TriggerResolver } from './trigger.resolver';
import { TRIGGERS_SECRET_BOX, TriggerService } from './trigger.service';

@Module({})
export class TriggersModule {
  static register(config: Config): DynamicModule {
    const keys = SecretBox.parseKeys(config.SECRETS_KEYS);
    return {
      module: TriggersModule,
      controllers: [HooksController],
      providers: [
        { provide: TRIGGERS_CONFIG, useValue: config },
        { provide: TRIGGERS_SECRET_BOX, useValue: new SecretBox(keys, [...keys.keys()].at(-1)!) },
        TriggerService,
        TriggerResolver,
        PipelineTriggersResolver,
        DeliveryProcessor,
        Scheduler,
        UpstreamRuns,
        TriggersProjectCleanup,
        TriggersResponder,
      ],
    };
  }
}
