import { runService } from '@pipewright/platform';
import { AppModule } from './app.module';
import { configSchema } from './config';

void runService({ service: 'projects', configSchema, module: (config) => AppModule.register(config) });
