import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { connect, type NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { MessageBus, type BusLogger } from './message-bus';
import { OutboxRelay } from './outbox-relay';

export interface MessagingOptions {
  url: string;
  prefix: string;
  /** The service's name: its NATS connection name and query queue group. */
  service: string;
  /** Run the outbox relay in this process (needs a DataSource provider). */
  outbox?: boolean;
}

export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

/** Adapts Nest's Logger to the bus's structured logger shape. */
export function busLogger(context: string): BusLogger {
  const logger = new Logger(context);
  return {
    warn: (message, ctx) => logger.warn(ctx ? { message, ...ctx } : message),
    error: (message, ctx) => logger.error(ctx ? { message, ...ctx } : message),
  };
}

/** Connects to NATS with the service's name and reconnects forever. */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url.split(','), name, maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
}

@Global()
@Module({})
export class MessagingModule implements OnModuleInit, OnApplicationShutdown {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: NATS_CONNECTION, useFactory: () => connectNats(options.url, options.service) },
        {
          provide: MessageBus,
          inject: [NATS_CONNECTION],
          useFactory: (nc: NatsConnection) => new MessageBus(nc, options.prefix, options.service, busLogger('MessageBus')),
        },
        {
          provide: OutboxRelay,
          inject: [MessageBus, { token: DataSource, optional: true }],
          useFactory: (bus: MessageBus, ds?: DataSource) => (options.outbox && ds ? new OutboxRelay(ds, bus, busLogger('OutboxRelay')) : null),
        },
      ],
      exports: [NATS_CONNECTION, MessageBus, OutboxRelay],
    };
  }

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly bus: MessageBus,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay | null,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.bus.ensureStreams();
    await this.relay?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
    await this.nc.drain().catch(() => undefined);
  }
}
