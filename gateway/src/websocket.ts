import type { ApolloServer } from '@apollo/server';
import type { JsonLogger } from '@pipewright/platform';
import { extendSchema, GraphQLError, parse, print, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';
import type { Authenticator, GatewayContext } from './auth';
import type { BuildLogs } from './build-logs';
import { subscriptionField } from './subscription-field';
import { SUBSCRIPTION_SDL, type RunUpdates } from './run-updates';

/** Close code for a connection whose token is missing or invalid (graphql-ws uses 4403 for "forbidden"). */
export const CLOSE_UNAUTHENTICATED = 4401;

type Extra = { identity?: GatewayContext['identity'] };

/** The composed graph the gateway serves now (null while it is still composing). */
export interface LiveGraph {
  server: ApolloServer<GatewayContext>;
  schema: GraphQLSchema;
}

/**
 * graphql-ws on the same `/graphql` path. The client authenticates once, in `connectionParams`
 * (`{ authorization: "Bearer <jwt>" }`); queries and mutations run through the supergraph exactly
 * as over HTTP. Subscriptions are fed from NATS: `runUpdated` and `runsUpdated` by RunUpdates, `buildLog` by BuildLogs.
 */
export function attachWebSocketServer(httpServer: Server, auth: Authenticator, graph: () => LiveGraph | null, updates: RunUpdates, logs: BuildLogs, log: JsonLogger) {
  // The supergraph has no Subscription type: the gateway adds its own, once per composed schema.
  const extended = new WeakMap<GraphQLSchema, GraphQLSchema>();
  const withSubscriptions = (schema: GraphQLSchema) => {
    let s = extended.get(schema);
    if (!s) extended.set(schema, (s = extendSchema(schema, parse(SUBSCRIPTION_SDL))));
    return s;
  };
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const cleanup = useServer<Record<string, unknown>, Extra>(
    {
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        try {
          (ctx.extra as Extra).identity = await auth.authenticate(typeof raw === 'string' ? raw : undefined);
          return true;
        } catch (err) {
          ctx.extra.socket.close(CLOSE_UNAUTHENTICATED, `Unauthenticated: ${(err as Error).message}`.slice(0, 120));
          return false;
        }
      },
      onSubscribe: () => {
        if (!graph()) return [new GraphQLError('the gateway is still composing the subgraphs; retry shortly', { extensions: { code: 'SERVICE_UNAVAILABLE' } })];
        return undefined;
      },
      context: (ctx) => ({ identity: (ctx.extra as Extra).identity! }),
      execute: async (args: ExecutionArgs): Promise<ExecutionResult> => {
        const server = graph()?.server;
        if (!server) return { errors: [new GraphQLError('the gateway is still composing the subgraphs')] };
        const response = await server.executeOperation(
          { query: print(args.document), variables: (args.variableValues ?? undefined) as Record<string, unknown> | undefined, operationName: args.operationName ?? undefined },
          { contextValue: args.contextValue as GatewayContext },
        );
        if (response.body.kind !== 'single') return { errors: [new GraphQLError('incremental delivery is not supported over WebSocket')] };
        return response.body.singleResult as ExecutionResult;
      },
      subscribe: (args: ExecutionArgs) => {
        const field = subscriptionField(args);
        return field?.name.value === 'buildLog' ? logs.subscribe(args, field) : updates.subscribe(args, field);
      },
      schema: () => {
        const schema = graph()?.schema;
        if (!schema) throw new GraphQLError('the gateway is still composing the subgraphs');
        return withSubscriptions(schema);
      },
    },
    wss,
  );
  wss.on('error', (err) => log.error({ message: 'websocket server error', error: err.message }, 'WebSocket'));
  return {
    // graphql-ws's dispose closes every socket and the WebSocket server itself; closing it again
    // (or once more on a second signal) answers "The server is not running", which is no failure.
    close: async () => {
      try {
        await cleanup.dispose();
      } catch (err) {
        if (!/not running/.test((err as Error).message)) throw err;
      }
    },
  };
}
