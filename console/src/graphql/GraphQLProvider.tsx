import { cacheExchange, Client, fetchExchange, Provider, subscriptionExchange } from 'urql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useAuth } from '../auth/AuthProvider';

/** The state of the console's WebSocket to the gateway, shown in the header. */
export type LinkState = 'connecting' | 'connected' | 'reconnecting';

class LinkStatus {
  state: LinkState = 'connecting';
  /** Bumped on every (re)connection after the first, so live views can resume from where they were. */
  generation = 0;
  private listeners = new Set<() => void>();
  set(state: LinkState) {
    if (state === 'connected' && this.state !== 'connected' && this.everConnected) this.generation++;
    if (state === 'connected') this.everConnected = true;
    this.state = state;
    this.listeners.forEach((l) => l());
  }
  private everConnected = false;
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
 * Close codes after which graphql-ws gives up for good: 4401 (the gateway refused the token: it
 * expired or was revoked), 4400/4406/4409/4429 and 1011 (a server error). The console then renews
 * the token (or signs in again) and opens a new client rather than staying disconnected.
 */
const TERMINAL_CLOSE_CODES = new Set([1011, 4400, 4401, 4406, 4409, 4429, 4500]);

const wsUrl = (path: string) => `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}${path}`;

/**
 * One urql client: queries and mutations over HTTP POST /graphql, subscriptions over graphql-ws on
 * the same path. The token goes in each request and in connectionParams; graphql-ws retries for
 * ever with backoff, and the header shows "reconnecting" meanwhile. No polling anywhere.
 */
export function GraphQLProvider({ children }: { children: ReactNode }) {
  const auth = useAuth();
  // Bumped to replace a client whose socket was closed for good (every live view resubscribes).
  const [epoch, setEpoch] = useState(0);
  const { client, ws } = useMemo(() => {
    let replaced = false;
    const ws: WsClient = createWsClient({
      url: wsUrl('/graphql'),
      lazy: false,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: async (retries) => new Promise((r) => setTimeout(r, Math.min(500 * 2 ** retries, 5000) + Math.random() * 300)),
      connectionParams: () => ({ authorization: `Bearer ${auth.accessToken()}` }),
      on: {
        connected: () => linkStatus.set('connected'),
        closed: (event) => {
          linkStatus.set(linkStatus.state === 'connecting' ? 'connecting' : 'reconnecting');
          const code = (event as { code?: number } | undefined)?.code;
          if (code !== undefined && TERMINAL_CLOSE_CODES.has(code) && !replaced) {
            replaced = true;
            const next = () => setEpoch((e) => e + 1);
            void (code === 4401 ? auth.renew() : Promise.resolve()).then(() => setTimeout(next, 1000), () => setTimeout(next, 1000));
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
        fetchExchange,
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
          }),
        }),
      ],
    });
    return { client, ws };
    // epoch: a new client after a terminal close.
  }, [auth, epoch]);
  // A refreshed token: the socket reconnects with it (the gateway checks every operation anyway).
  useEffect(() => auth.onTokenChange(() => ws.terminate()), [auth, ws]);
  useEffect(() => () => void ws.dispose(), [ws]);
  return <Provider value={client}>{children}</Provider>;
}
