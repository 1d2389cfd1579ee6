import { runService } from '@pipewright/platform';
import { AppModule } from './app.module';
import { configSchema } from './config';

void runService({ service: 'executions', configSchema, module: (config) => AppModule.register(config) });
