import type { ApolloServer } from '@apollo/server';
import type { JsonLogger } from '@pipewright/platform';
import { extendSchema, GraphQLError, parse, print, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticator, GatewayContext } from './auth';
import type { BuildLogs } from './build-logs';
import { RateLimiter, RequestLimiter } from './limits';
import { subscriptionField } from './subscription-field';
import { SUBSCRIPTION_SDL, type RunUpdates } from './run-updates';

/** Close code for a connection whose token is missing or invalid (graphql-ws uses 4403 for "forbidden"). */
export const CLOSE_UNAUTHENTICATED = 4401;
/** Close code when the connection's token expires (graphql-ws "Forbidden"): a client refreshes its token by reconnecting. */
export const CLOSE_TOKEN_EXPIRED = 4403;

type Extra = { identity?: GatewayContext['identity']; authorization?: string; address?: string };

/** Close code that makes graphql-ws clients reconnect (and so sign in again with fresh memberships). */
export const CLOSE_RECONNECT = 1012;
/** Closed for the rate limit (RATE_LIMIT_*): reconnect after a while. */
export const CLOSE_TRY_LATER = 1013;
/** Longest timer Node keeps (about 24.8 days); a token that lives longer is re-checked per operation anyway. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Where the gateway hears that someone's access changed, to end the connections that carry the old one. */
export interface AccessEvents {
  onTokenRevoked(handler: (tokenId: string) => void): void;
  onMembershipChanged(handler: (subject: string, projectId: string, roles: readonly string[]) => void): void;
}

/** A WebSocket close reason is at most 123 bytes. */
function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/** The composed graph the gateway serves now (null while it is still composing). */
export interface LiveGraph {
  server: ApolloServer<GatewayContext>;
  schema: GraphQLSchema;
}

/**
 * graphql-ws on the same `/graphql` path. The client sends its token in `connectionParams`
 * (`{ authorization: "Bearer <jwt>" }`); it is verified at connect and again for every operation,
 * so a revoked API token, an expired JWT or a changed membership never outlives itself on an open
 * socket: the socket is closed when its JWT expires (4403), when its API token is revoked (4401) and when
 * its subject's memberships change (1012, so the client reconnects with the new ones). Queries and
 * mutations run through the supergraph exactly as over HTTP. Subscriptions are fed from NATS:
 * `runUpdated` and `runsUpdated` by RunUpdates, `buildLog` by BuildLogs.
 */
/** Abuse limits on WebSocket traffic (the gateway's RATE_LIMIT_*, MAX_SUBSCRIPTIONS_PER_CONNECTION, MAX_REQUEST_BYTES). */
export interface SocketLimits {
  rate: RequestLimiter;
  /** The client's address (TRUST_PROXY_HOPS), from the upgrade request. */
  addressOf: (req: import('node:http').IncomingMessage) => string | undefined;
  maxOperations: number;
  maxPayloadBytes: number;
}

export function attachWebSocketServer(
  httpServer: Server,
  auth: Authenticator,
  graph: () => LiveGraph | null,
  updates: RunUpdates,
  logs: BuildLogs,
  log: JsonLogger,
  access?: AccessEvents,
  limits: SocketLimits = { rate: new RequestLimiter(new RateLimiter(0, 1), new RateLimiter(0, 1)), addressOf: (req) => req.socket.remoteAddress, maxOperations: 100, maxPayloadBytes: 4 * 1024 * 1024 },
) {
  const open = new Set<{ socket: WebSocket; extra: Extra }>();
  access?.onTokenRevoked((tokenId) => {
    for (const c of open) if (c.extra.identity?.tokenId === tokenId) c.socket.close(CLOSE_UNAUTHENTICATED, closeReason('Unauthenticated: the API token was revoked'));
  });
  // Only a loss matters to an open socket (roles added reach it with the next operation's check).
  access?.onMembershipChanged((subject, projectId, roles) => {
    for (const c of open) {
      if (c.extra.identity?.sub !== subject) continue;
      const had = c.extra.identity.projects.find((m) => m.projectId === projectId)?.roles ?? [];
      if (had.some((r) => !roles.includes(r))) c.socket.close(CLOSE_RECONNECT, closeReason('your project memberships changed; reconnect'));
    }
  });
  // The supergraph has no Subscription type: the gateway adds its own, once per composed schema.
  const extended = new WeakMap<GraphQLSchema, GraphQLSchema>();
  const withSubscriptions = (schema: GraphQLSchema) => {
    let s = extended.get(schema);
    if (!s) extended.set(schema, (s = extendSchema(schema, parse(SUBSCRIPTION_SDL))));
    return s;
  };
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: limits.maxPayloadBytes });
  const cleanup = useServer<Record<string, unknown>, Extra>(
    {
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const extra = ctx.extra as Extra & { socket: WebSocket };
        // Listen for the close before anything is awaited: a client gone meanwhile leaves nothing behind.
        let timer: NodeJS.Timeout | null = null;
        const entry = { socket: extra.socket, extra };
        extra.socket.once('close', () => {
          open.delete(entry);
          if (timer) clearTimeout(timer);
        });
        try {
          extra.authorization = typeof raw === 'string' ? raw : undefined;
          const upgrade = (extra as { request?: import('node:http').IncomingMessage }).request;
          extra.address = upgrade ? limits.addressOf(upgrade) : undefined;
          // A connection counts as a request (its token is checked like one): past the limit it is
          // closed with 1013 "try again later", which clients answer by reconnecting later.
          const limited = limits.rate.take(extra.authorization, extra.address);
          if (limited) {
            extra.socket.close(CLOSE_TRY_LATER, closeReason(`Try again later: ${limited.message}`));
            return false;
          }
          const { identity, expiresAt } = await auth.authenticateUntil(extra.authorization);
          if (extra.socket.readyState !== extra.socket.OPEN) return false;
          extra.identity = identity;
          open.add(entry);
          const delay = expiresAt ? expiresAt * 1000 - Date.now() : null;
          // Beyond what a timer can hold, the per-operation check still refuses it once expired.
          if (delay !== null && delay <= MAX_TIMER_MS) timer = setTimeout(() => extra.socket.close(CLOSE_TOKEN_EXPIRED, closeReason('Forbidden: the token expired; reconnect with a fresh one')), Math.max(0, delay));
          return true;
        } catch (err) {
          ctx.extra.socket.close(CLOSE_UNAUTHENTICATED, closeReason(`Unauthenticated: ${(err as Error).message}`));
          return false;
        }
      },
      // Every operation is authorized afresh (expiry, revocation, memberships as they are now): a
      // refusal is the operation's error, and the socket is closed after it.
      onSubscribe: async (ctx) => {
        if (!graph()) return [new GraphQLError('the gateway is still composing the subgraphs; retry shortly', { extensions: { code: 'SERVICE_UNAVAILABLE' } })];
        const extra = ctx.extra as Extra & { socket: WebSocket };
        // This operation is already counted among the connection's (graphql-ws adds it before this hook).
        const operations = Object.keys(ctx.subscriptions).length;
        if (operations > limits.maxOperations) {
          return [new GraphQLError(`this connection has ${limits.maxOperations} operations open already, the most the gateway allows (MAX_SUBSCRIPTIONS_PER_CONNECTION): complete one, or open another connection`, { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } })];
        }
        const limited = limits.rate.take(extra.authorization, extra.address);
        if (limited) return [limited];
        try {
          extra.identity = await auth.authenticate(extra.authorization);
          return undefined;
        } catch (err) {
          const error = err instanceof GraphQLError ? err : new GraphQLError((err as Error).message, { extensions: { code: 'UNAUTHENTICATED' } });
          const unauthenticated = error.extensions?.code === 'UNAUTHENTICATED';
          // 1013 "try again later" when the projects service did not answer: the client reconnects.
          setImmediate(() => extra.socket.close(unauthenticated ? CLOSE_UNAUTHENTICATED : CLOSE_TRY_LATER, closeReason(`${unauthenticated ? 'Unauthenticated' : 'Unavailable'}: ${error.message}`)));
          return [error];
        }
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
