import 'reflect-metadata';
import { Logger, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { z } from 'zod';
import { ConfigError, loadConfig, type ServiceConfig } from './config';
import { JsonLogger } from './json-logger';
import { signatureMiddleware } from './signature.middleware';
import { SharedNonces } from '@pipewright/persistence';
import { DataSource } from 'typeorm';

export interface RunServiceOptions<S extends z.ZodType<ServiceConfig, z.ZodTypeDef, unknown>> {
  service: string;
  configSchema: S;
  module: (config: z.infer<S>) => DynamicModule;
  /** Runs before the body parsers are mounted, e.g. to take a route's raw body (webhooks) first. */
  beforeBodyParsers?: (app: NestExpressApplication, config: z.infer<S>) => void;
}

/**
 * Boots a subgraph: validates the config (a bad variable stops it, naming the variable), opens the
 * database and NATS, puts the signature check in front of /graphql and listens. Any failure at boot
 * is logged as one JSON line and exits with status 1, so an orchestrator sees it.
 */
export async function runService<S extends z.ZodType<ServiceConfig, z.ZodTypeDef, unknown>>(opts: RunServiceOptions<S>): Promise<INestApplication> {
  const bootLogger = new JsonLogger(opts.service, process.env.LOG_LEVEL ?? 'info', (line) => process.stderr.write(line + '\n'));
  try {
    const config = loadConfig(opts.configSchema);
    const logger = new JsonLogger(opts.service, config.LOG_LEVEL);
    const app = await NestFactory.create<NestExpressApplication>(opts.module(config), { logger, abortOnError: false, bodyParser: false, rawBody: true });
    opts.beforeBodyParsers?.(app, config);
    // The gateway accepts 4 MB; a subgraph must too, so an oversized field is refused by validation
    // (BAD_USER_INPUT naming it) rather than by the body parser.
    app.useBodyParser('json', { limit: '4mb' });
    // The raw body (rawBody: true) is what the gateway's signature covers; the nonces are shared by
    // the service's replicas through its database.
    app.use('/graphql', signatureMiddleware(config.INTERNAL_SECRET, opts.service, new SharedNonces(app.get(DataSource))));
    app.enableShutdownHooks();
    // Idle keep-alive connections outlive the gateway's (Node's agent drops its idle sockets after
    // 5 s, the same as the server's default): otherwise a request the gateway sends on a socket the
    // service is closing that instant fails with ECONNRESET, which showed under load.
    const server = app.getHttpServer() as import('node:http').Server;
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    await app.listen(config.PORT, config.HOST);
    new Logger('Bootstrap').log({ message: `${opts.service} listening`, url: `http://${config.HOST}:${config.PORT}/graphql` });
    return app;
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : `cannot start: ${(err as Error).message}`;
    bootLogger.fatal({ message }, 'Bootstrap');
    process.exit(1);
  }
}
