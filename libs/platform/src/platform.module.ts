import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloFederationDriver, type ApolloFederationDriverConfig } from '@nestjs/apollo';
import { Global, Logger, Module, type DynamicModule, type MiddlewareConsumer, type NestModule, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { RolesGuard } from '@pipewright/auth';
import { MessagingModule } from '@pipewright/messaging';
import { createDataSource, openDatabase, redactUrl, type DataSourceOptions } from '@pipewright/persistence';
import { DataSource } from 'typeorm';
import type { ServiceConfig } from './config';
import { domainErrorFilter, type ErrorCatalogue } from './domain-error';
import { formatGraphQLError } from './graphql-errors';
import { HealthController } from './health.controller';
import { HttpMetricsMiddleware, Metrics, MetricsController } from './metrics';
import { createServiceInfoResolver } from './service-info';
import type { SignedRequest } from './signature.middleware';

export interface ServiceModuleOptions {
  service: string;
  config: ServiceConfig;
  entities?: DataSourceOptions['entities'];
  migrations?: DataSourceOptions['migrations'];
  /** Extra GraphQL scalars/types that are only reachable through orphaned references. */
  orphanedTypes?: Type[];
  /** The service's error codes and their GraphQL codes (its `errors.ts`). */
  errors: ErrorCatalogue;
}

/** Opens the service's database and names DATABASE_URL when it cannot. */
async function dataSourceFactory(opts: ServiceModuleOptions): Promise<DataSource> {
  const ds = createDataSource({ url: opts.config.DATABASE_URL, entities: opts.entities, migrations: opts.migrations, applicationName: opts.service });
  try {
    return await openDatabase(ds, { createIfMissing: opts.config.DATABASE_CREATE });
  } catch (err) {
    throw new Error(`DATABASE_URL (${redactUrl(opts.config.DATABASE_URL)}): cannot open the database: ${(err as Error).message}`);
  }
}

/**
 * What every subgraph has: its database (migrated at boot), NATS with the outbox relay, the
 * federated GraphQL endpoint behind the gateway's signature, health, metrics and the role guard.
 */
@Global()
@Module({})
export class PlatformModule implements NestModule {
  static forService(opts: ServiceModuleOptions): DynamicModule {
    const metrics = new Metrics();
    metrics.setService(opts.service);
    const graphqlLog = new Logger('GraphQL');
    const providers: Provider[] = [
      { provide: DataSource, useFactory: () => dataSourceFactory(opts) },
      { provide: Metrics, useValue: metrics },
      { provide: APP_GUARD, useClass: RolesGuard },
      { provide: APP_FILTER, useClass: domainErrorFilter(opts.errors) },
      createServiceInfoResolver(opts.service),
    ];
    return {
      module: PlatformModule,
      imports: [
        MessagingModule.forRoot({ url: opts.config.NATS_URL, prefix: opts.config.NATS_PREFIX, service: opts.service, user: opts.config.NATS_USER ?? opts.service, password: opts.config.NATS_PASSWORD, outbox: true }),
        GraphQLModule.forRoot<ApolloFederationDriverConfig>({
          driver: ApolloFederationDriver,
          autoSchemaFile: { federation: 2 },
          path: '/graphql',
          playground: false,
          introspection: true,
          includeStacktraceInErrorResponses: false,
          plugins: [ApolloServerPluginInlineTraceDisabled()],
          buildSchemaOptions: { orphanedTypes: opts.orphanedTypes },
          context: ({ req }: { req: SignedRequest }) => ({ identity: req.identity }),
          // Without it a domain error thrown by a @ResolveField (Project.runs, Project.members ...) skips the filter and is an internal error.
          fieldResolverEnhancers: ['filters'],
          formatError: (formatted) => formatGraphQLError(formatted, (e) => graphqlLog.error({ message: 'unexpected GraphQL error', error: e.message, path: e.path })),
        }),
      ],
      controllers: [HealthController, MetricsController],
      providers,
      exports: [DataSource, Metrics],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
  }
}
