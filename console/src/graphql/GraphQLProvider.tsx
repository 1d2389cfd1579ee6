import { Client, cacheExchange, fetchExchange, mapExchange, Provider, subscriptionExchange } from 'urql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useAuth, type Auth } from '../auth/AuthProvider';
import { Loading } from '../ui/states';

/**
 * The state of the console's WebSocket to the gateway, shown in the header. `refused`: the gateway
 * keeps refusing even a freshly renewed token (the console stops retrying and says so).
 */
export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'refused';

class LinkStatus {
  state: LinkState = 'connecting';
  /** Bumped on every (re)connection after the first, so live views can resume from where they were. */
  generation = 0;
  private everConnected = false;
  private listeners = new Set<() => void>();
  set(state: LinkState) {
    if (state === this.state) return;
    if (state === 'connected' && this.everConnected) this.generation++;
    if (state === 'connected') this.everConnected = true;
    this.state = state;
    this.listeners.forEach((l) => l());
  }
  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  };
}

export const linkStatus = new LinkStatus();
export const useLinkState = () => useSyncExternalStore(linkStatus.subscribe, () => linkStatus.state);
/** Changes each time the WebSocket comes back after a loss. */
export const useLinkGeneration = () => useSyncExternalStore(linkStatus.subscribe, () => linkStatus.generation);

/**
 * Whether graphql-ws gives up for good after this close code (its own rule, graphql-ws 6
 * client.js `shouldRetryConnectOrThrow`): 1000-1999 except 1000/1001/1005/1006/1012/1013/1014,
 * and 4004, 4005, 4400, 4401, 4406, 4409, 4429, 4500. The console then renews the token (4401)
 * and opens a new client rather than staying disconnected.
 */
export function isTerminalClose(code: number): boolean {
  if ([1000, 1001, 1005, 1006, 1012, 1013, 1014].includes(code)) return false;
  return (code >= 1000 && code <= 1999) || [4004, 4005, 4400, 4401, 4406, 4409, 4429, 4500].includes(code);
}

/**
 * Renewals after the gateway refused the token, spaced out (1 s, 2 s, 4 s … 30 s) and given up
 * after five in a row: a token refused even when fresh (a wrong audience, say) is reported, not
 * retried for ever. A connection that works resets it.
 */
class RefusalBackoff {
  private failures = 0;
  constructor(private readonly auth: Auth) {}
  reset() {
    this.failures = 0;
  }
  /** Renews, then resolves after the backoff; false when it gave up. */
  async renewAndWait(): Promise<boolean> {
    if (++this.failures > 5) {
      linkStatus.set('refused');
      return false;
    }
    await this.auth.renew().catch(() => undefined);
    await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** (this.failures - 1), 30_000)));
    return true;
  }
}

const wsUrl = (path: string) => `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}${path}`;

function createClients(auth: Auth, backoff: RefusalBackoff, replace: () => void): { client: Client; ws: WsClient } {
  let replacing = false;
  const replaceAfterRefusal = () => {
    if (replacing) return;
    replacing = true;
    void backoff.renewAndWait().then((again) => again && replace());
  };
  const ws = createWsClient({
    url: wsUrl('/graphql'),
    lazy: false,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: async (retries) => new Promise((r) => setTimeout(r, Math.min(500 * 2 ** retries, 5000) + Math.random() * 300)),
    connectionParams: () => ({ authorization: `Bearer ${auth.accessToken()}` }),
    on: {
      connected: () => {
        backoff.reset();
        linkStatus.set('connected');
      },
      closed: (event) => {
        if (linkStatus.state !== 'refused') linkStatus.set(linkStatus.state === 'connecting' ? 'connecting' : 'reconnecting');
        const code = (event as { code?: number } | undefined)?.code;
        // The token expired (4403): renew it now; graphql-ws reconnects by itself, with the new one.
        if (code === 4403) void auth.renew().catch(() => undefined);
        if (code !== undefined && isTerminalClose(code)) {
          if (code === 4401) replaceAfterRefusal();
          else if (!replacing) {
            replacing = true;
            setTimeout(replace, 2000);
          }
        }
      },
      connecting: () => linkStatus.state === 'connected' && linkStatus.set('reconnecting'),
    },
  });
  const client = new Client({
    url: '/graphql',
    requestPolicy: 'cache-and-network',
    // POST only: the gateway's CSRF prevention refuses simple GET requests (and tokens stay out of URLs).
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${auth.accessToken()}` } }),
    exchanges: [
      cacheExchange,
      // An HTTP request the gateway refused (401): renew the token, as for the WebSocket.
      mapExchange({
        onError: (error) => {
          const status = (error.response as Response | undefined)?.status;
          if (status === 401 || error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) replaceAfterRefusal();
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  return { client, ws };
}

/**
 * One urql client: queries and mutations over HTTP POST /graphql, subscriptions over graphql-ws on
 * the same path. The token goes in each request and in connectionParams; graphql-ws retries with
 * backoff, and the header shows "reconnecting" meanwhile. A connection closed for good (a refused
 * token, a server error) gets a new client, after renewing the token. No polling anywhere.
 */
export function GraphQLProvider({ children }: { children: ReactNode }) {
  const auth = useAuth();
  const [clients, setClients] = useState<{ client: Client; ws: WsClient } | null>(null);
  const backoff = useRef<RefusalBackoff | null>(null);
  const [epoch, setEpoch] = useState(0);
  // Made (and disposed) in an effect, so StrictMode's double render leaves no stray socket behind.
  useEffect(() => {
    if (!backoff.current) backoff.current = new RefusalBackoff(auth);
    const made = createClients(auth, backoff.current, () => setEpoch((e) => e + 1));
    setClients(made);
    // A refreshed token: the socket reconnects with it (the gateway checks every operation anyway).
    const off = auth.onTokenChange(() => made.ws.terminate());
    return () => {
      off();
      void made.ws.dispose();
    };
  }, [auth, epoch]);
  if (!clients) return <Loading label="Connecting to the gateway" />;
  return <Provider value={clients.client}>{children}</Provider>;
}
