import { runService } from '@pipewright/platform';
import express from 'express';
import { AppModule } from './app.module';
import { configSchema } from './config';

void runService({
  service: 'triggers',
  configSchema,
  module: (config) => AppModule.register(config),
  // A hook's signature covers its bytes as sent: /hooks gets the raw body, whatever its type.
  beforeBodyParsers: (app, config) => {
    app.use('/hooks', express.raw({ type: () => true, limit: config.HOOK_MAX_BYTES }));
    app.use('/hooks', (err: Error & { type?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
      if (err.type === 'entity.too.large') return void res.status(413).json({ error: `the body is larger than this service stores (${config.HOOK_MAX_BYTES} bytes, HOOK_MAX_BYTES)` });
      next(err);
    });
  },
});
