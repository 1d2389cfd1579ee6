import { IntrospectAndCompose, ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { AUDIENCE_HEADER, encodeIdentity, IDENTITY_HEADER } from '@pipewright/auth';
import { parseMessage, subjects, type Identity, type PayloadOf } from '@pipewright/contracts';
import { formatGraphQLError, JsonLogger } from '@pipewright/platform';
import express, { type RequestHandler } from 'express';
import { OperationTypeNode, type GraphQLSchema } from 'graphql';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { Authenticator, verifierFor, type GatewayContext } from './auth';
import { MessageBus } from '@pipewright/messaging';
import { subgraphList, type GatewayConfig } from './config';
import { BuildLogs } from './build-logs';
import { mountConsole } from './console';
import { clientAddress, queryLimitRules, RateLimiter, RequestLimiter } from './limits';
import { mountHooks } from './hooks';
import { RunUpdates } from './run-updates';
import { subgraphFetcher, type Fetcher } from './subgraph-fetcher';
import { attachWebSocketServer, type LiveGraph } from './websocket';

/** The identity the gateway itself uses to introspect the subgraphs. */
const GATEWAY_IDENTITY: Identity = { sub: 'system:gateway', roles: [], projects: [], via: 'system' };

export interface RunningGateway {
  httpServer: Server;
  url: string;
  /** Resolves once the supergraph is composed and /graphql answers. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** Sets the caller's identity and the subgraph's name on each request; the fetcher signs it (subgraphFetcher). */
class SigningDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly audience: string,
    fetcher: Fetcher,
    /** Called after every request of a mutation this subgraph answered (or failed to). */
    private readonly afterMutation?: () => void,
  ) {
    super({ url, fetcher });
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    try {
      return await super.process(options);
    } finally {
      // The client's operation decides (the text sent to the subgraph may start with its fragments).
      if (this.afterMutation && 'incomingRequestContext' in options && options.incomingRequestContext.operation?.operation === OperationTypeNode.MUTATION) this.afterMutation();
    }
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const identity = (context as Partial<GatewayContext> | undefined)?.identity ?? GATEWAY_IDENTITY;
    request.http?.headers.set(IDENTITY_HEADER, encodeIdentity(identity));
    request.http?.headers.set(AUDIENCE_HEADER, this.audience);
  }
}

function createApollo(config: GatewayConfig, drain: ApolloServerPlugin, log: JsonLogger, auth: Authenticator, fetcher: Fetcher) {
  const supergraphSdl = config.SUPERGRAPH_PATH
    ? readFileSync(config.SUPERGRAPH_PATH, 'utf8')
    : new IntrospectAndCompose({ subgraphs: subgraphList(config), pollIntervalInMs: config.SCHEMA_POLL_MS || undefined });
  const gateway = new ApolloGateway({
    supergraphSdl,
    // A mutation of the projects service may change who may do what: the next request asks again.
    buildService: ({ name, url }) =>
      // The audience is the subgraph's service name (by URL; a composed supergraph may name it otherwise).
      new SigningDataSource(url!, subgraphList(config).find((s) => s.url === url)?.name ?? name.toLowerCase(), fetcher, name === 'projects' || url === config.PROJECTS_URL ? () => auth.memberships.clear() : undefined),
    logger: { debug: () => undefined, info: (m) => log.log(String(m), 'ApolloGateway'), warn: (m) => log.warn(String(m), 'ApolloGateway'), error: (m) => log.error(String(m), 'ApolloGateway') },
  });
  const server = new ApolloServer<GatewayContext>({
    gateway,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // Depth and cost are checked before anything runs (limits.ts).
    validationRules: queryLimitRules(config.MAX_QUERY_DEPTH, config.MAX_QUERY_COST),
    formatError: (formatted) => formatGraphQLError(formatted, (e) => log.error({ message: 'unexpected GraphQL error', error: e.message, path: e.path }, 'GraphQL')),
    plugins: [drain, ApolloServerPluginInlineTraceDisabled()],
  });
  return { gateway, server };
}

/**
 * Starts the gateway: health and metrics at once, /graphql (HTTP and graphql-ws) as soon as the
 * six subgraphs compose. Until then it retries with backoff and /health/ready answers 503.
 */
export async function startGateway(config: GatewayConfig, log = new JsonLogger('gateway', config.LOG_LEVEL)): Promise<RunningGateway> {
  if (config.OIDC_ISSUER && (config.JWT_SECRET || config.JWT_JWKS_URL)) {
    log.warn({ message: 'OIDC_ISSUER is set: JWT_SECRET and JWT_JWKS_URL are ignored (development tokens are not accepted)' }, 'Gateway');
  }
  let bus: MessageBus | null = null;
  const auth = new Authenticator(verifierFor(config), () => bus, config);
  // One HTTP client (and its kept-alive connections) for every subgraph, across recompositions.
  const fetcher = subgraphFetcher(config.SUBGRAPH_TIMEOUT_MS, { secret: config.INTERNAL_SECRET });
  const app = express();
  const httpServer = createServer(app);
  // One drain plugin for every composition attempt: each instance hooks the HTTP server for good.
  const drain = ApolloServerPluginDrainHttpServer({ httpServer });
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'gateway' });
  collectDefaultMetrics({ register: registry, prefix: 'pipewright_' });
  const requests = new Counter({ name: 'pipewright_gateway_requests_total', help: 'GraphQL HTTP requests by status', labelNames: ['status'], registers: [registry] });

  let graphql: RequestHandler | null = null;
  let live: LiveGraph | null = null;
  let stopped = false;

  app.get('/health/live', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/health/ready', (_req, res) => void res.status(graphql ? 200 : 503).json({ status: graphql ? 'ok' : 'composing' }));
  app.get('/metrics', async (_req, res) => void res.type('text/plain; version=0.0.4').send(await registry.metrics()));
  const rate = new RequestLimiter(new RateLimiter(config.RATE_LIMIT_PER_SECOND, config.RATE_LIMIT_BURST), new RateLimiter(config.RATE_LIMIT_PER_ADDRESS_PER_SECOND, config.RATE_LIMIT_PER_ADDRESS_BURST));
  const addressOf = (req: import('node:http').IncomingMessage) => clientAddress(req, config.TRUST_PROXY_HOPS);
  app.use('/graphql', (req, res, next) => {
    res.on('finish', () => requests.inc({ status: String(res.statusCode) }));
    const error = rate.take(req.headers.authorization, addressOf(req));
    if (!error) return next();
    res.status(429).set('retry-after', String(error.extensions.retryAfterSeconds)).json({ errors: [{ message: error.message, extensions: error.extensions }] });
  });
  app.use('/graphql', express.json({ limit: config.MAX_REQUEST_BYTES }), (req, res, next) => {
    if (!graphql) {
      res.status(503).json({ errors: [{ message: 'the gateway is still composing the subgraphs; retry shortly', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
      return;
    }
    graphql(req, res, next);
  });

  // A body over MAX_REQUEST_BYTES, or one that is not JSON: a GraphQL error, not express's HTML page.
  app.use('/graphql', (err: Error & { status?: number; type?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (err.type === 'entity.too.large') return void res.status(413).json({ errors: [{ message: `the request body is larger than the gateway allows (${config.MAX_REQUEST_BYTES} bytes, MAX_REQUEST_BYTES)`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    if (err.type === 'entity.parse.failed') return void res.status(400).json({ errors: [{ message: `the request body is not valid JSON: ${err.message}`, extensions: { code: 'BAD_REQUEST' } }] });
    next(err);
  });

  mountHooks(app, config, rate, addressOf);
  mountConsole(app, config);

  const subscriptionQueries = new Counter({
    name: 'pipewright_gateway_subscription_queries_total',
    help: 'Supergraph queries made for subscriptions: initial (a subscriber\'s first state) or event (one per distinct selection per run state)',
    labelNames: ['field', 'kind'],
    registers: [registry],
  });
  const updates = new RunUpdates(() => live?.server ?? null, log, subscriptionQueries);
  await updates.start(config.NATS_URL, config.NATS_PREFIX, { user: config.NATS_USER, password: config.NATS_PASSWORD });
  const nats = updates.connection()!;
  bus = new MessageBus(nats.nc, nats.prefix, 'gateway', {
    warn: (message, context) => log.warn({ message, ...context }, 'MessageBus'),
    error: (message, context) => log.error({ message, ...context }, 'MessageBus'),
  });
  const logs = new BuildLogs(() => live?.server ?? null, () => updates.connection(), log);
  const accessEvent = <S extends 'evt.projects.api-token.changed.v1' | 'evt.projects.member.changed.v1'>(subject: S, handler: (e: PayloadOf<S>) => void) =>
    nats.nc.subscribe(`${nats.prefix}.${subject}`, {
      callback: (err, msg) => {
        if (err) return;
        try {
          handler(parseMessage(subject, subjects[subject].payload, msg.json()) as PayloadOf<S>);
        } catch (e) {
          log.warn({ message: `dropped an invalid ${subject}`, error: (e as Error).message }, 'Gateway');
        }
      },
    });
  // What another gateway instance (or the projects service itself) changed reaches this one as
  // events: any of them drops every remembered membership, even one this gateway cannot read.
  for (const subject of ['evt.projects.member.changed.v1', 'evt.projects.project.changed.v1']) nats.nc.subscribe(`${nats.prefix}.${subject}`, { callback: () => auth.memberships.clear() });
  void (async () => {
    // Events sent while the connection was down are lost to a core subscription.
    for await (const s of nats.nc.status()) if (s.type === 'reconnect') auth.memberships.clear();
  })().catch(() => undefined);
  const ws = attachWebSocketServer(
    httpServer,
    auth,
    () => live,
    updates,
    logs,
    log,
    {
      onTokenRevoked: (handler) => void accessEvent('evt.projects.api-token.changed.v1', (e) => e.change === 'revoked' && handler(e.id)),
      onMembershipChanged: (handler) => void accessEvent('evt.projects.member.changed.v1', (e) => handler(e.subject, e.projectId, e.roles)),
    },
    { rate, addressOf, maxOperations: config.MAX_SUBSCRIPTIONS_PER_CONNECTION, maxPayloadBytes: config.MAX_REQUEST_BYTES },
  );

  await new Promise<void>((resolve) => httpServer.listen(config.PORT, config.HOST, resolve));
  const address = httpServer.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}/graphql`;

  const ready = (async () => {
    for (let attempt = 1, delay = 500; !stopped; attempt++, delay = Math.min(delay * 2, 5000)) {
      const { server, gateway } = createApollo(config, drain, log, auth, fetcher);
      let schema: GraphQLSchema | null = null;
      gateway.onSchemaLoadOrUpdate(({ apiSchema }) => {
        schema = apiSchema;
        if (live) live.schema = apiSchema;
      });
      try {
        await server.start();
        live = { server, schema: schema! };
        graphql = expressMiddleware(server, {
          context: async ({ req }) => ({ identity: await auth.authenticate(req.headers.authorization) }),
        });
        log.log({ message: 'gateway ready', url }, 'Gateway');
        return;
      } catch (err) {
        log.warn({ message: `subgraphs not composable yet (attempt ${attempt}); retrying in ${delay} ms`, error: (err as Error).message }, 'Gateway');
        await server.stop().catch(() => undefined);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  })();

  return {
    httpServer,
    url,
    ready,
    stop: async () => {
      stopped = true;
      await ws.close();
      await updates.stop();
      if (live) await live.server.stop();
      else await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
