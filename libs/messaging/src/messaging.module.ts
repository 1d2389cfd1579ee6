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
  /** Its NATS user (default: the service's name) and password (the generated nats-server configuration's). */
  user?: string;
  password?: string;
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

export interface NatsCredentials {
  user: string;
  password?: string;
}

/**
 * Connects to NATS with the service's name and credentials and reconnects forever. Replies come
 * to inboxes under `_INBOX_<user>`, the only ones the server lets that user subscribe to, so no
 * other user can read the answers it is sent (credentials among them).
 */
export async function connectNats(url: string, name: string, credentials?: NatsCredentials): Promise<NatsConnection> {
  try {
    return await connect({
      servers: url.split(','),
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      ...(credentials ? { user: credentials.user, pass: credentials.password, inboxPrefix: `_INBOX_${credentials.user}` } : {}),
    });
  } catch (err) {
    if (/authorization|authentication/i.test(String((err as Error).message))) {
      throw new Error(
        `NATS at ${url} refused ${credentials ? `user "${credentials.user}"` : 'a connection without credentials'}: set NATS_USER and NATS_PASSWORD to this process's user in the generated nats-server configuration (deploy/nats/nats-config.cjs) (${(err as Error).message})`,
      );
    }
    throw err;
  }
}

@Global()
@Module({})
export class MessagingModule implements OnModuleInit, OnApplicationShutdown {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: NATS_CONNECTION, useFactory: () => connectNats(options.url, options.service, { user: options.user ?? options.service, password: options.password }) },
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
