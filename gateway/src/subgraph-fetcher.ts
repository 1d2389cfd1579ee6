import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

type Fetcher = NonNullable<NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher']>;
type FetcherResponse = Awaited<ReturnType<Fetcher>>;
type FetcherHeaders = FetcherResponse['headers'];

/** Subgraph requests that take longer than this fail (the caller's request with them). */
export const SUBGRAPH_TIMEOUT_MS = 60_000;

/** A response's headers, read-only in effect (the data source only reads them). */
class ResponseHeaders implements FetcherHeaders {
  private readonly map = new Map<string, string>();

  constructor(raw: IncomingHttpHeaders) {
    for (const [k, v] of Object.entries(raw)) if (v !== undefined) this.map.set(k, Array.isArray(v) ? v.join(', ') : v);
  }

  append(name: string, value: string) {
    const k = name.toLowerCase();
    this.map.set(k, this.map.has(k) ? `${this.map.get(k)}, ${value}` : value);
  }
  delete(name: string) {
    this.map.delete(name.toLowerCase());
  }
  get(name: string) {
    return this.map.get(name.toLowerCase()) ?? null;
  }
  has(name: string) {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, value: string) {
    this.map.set(name.toLowerCase(), value);
  }
  entries() {
    return this.map.entries();
  }
  keys() {
    return this.map.keys();
  }
  values() {
    return this.map.values();
  }
  [Symbol.iterator]() {
    return this.map.entries();
  }
}

function responseOf(url: string, status: number, statusText: string, headers: ResponseHeaders, body: Buffer): FetcherResponse {
  let used = false;
  const take = () => {
    used = true;
    return body;
  };
  return {
    get bodyUsed() {
      return used;
    },
    url,
    redirected: false,
    status,
    ok: status >= 200 && status < 300,
    statusText,
    headers,
    arrayBuffer: async () => {
      const b = take();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
    text: async () => take().toString('utf8'),
    json: async () => JSON.parse(take().toString('utf8')),
    clone: () => responseOf(url, status, statusText, headers, body),
  };
}

/**
 * The gateway's HTTP client for its subgraphs: node's own http with kept-alive connections.
 * Apollo's default (make-fetch-happen, with its cache and stream layers) cost more CPU per
 * subgraph request than the subgraph spent answering it (bench: gateway overhead).
 */
export function subgraphFetcher(timeoutMs = SUBGRAPH_TIMEOUT_MS): Fetcher {
  // With a timeout set, an idle socket is also closed before the server's Keep-Alive hint runs out
  // (node lowers the timeout to the hint only then), so a reused socket is not one being closed.
  const agent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: timeoutMs });
  const httpsAgent = new HttpsAgent({ keepAlive: true, scheduling: 'lifo', timeout: timeoutMs });
  return (url, init = {}) =>
    new Promise<FetcherResponse>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const body = init.body === undefined ? undefined : typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
      const headers: Record<string, string | number> = { ...init.headers };
      if (body) headers['content-length'] = body.byteLength;
      const req = (secure ? httpsRequest : request)(target, { method: init.method ?? 'GET', headers, agent: secure ? httpsAgent : agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve(responseOf(url, res.statusCode ?? 0, res.statusMessage ?? '', new ResponseHeaders(res.headers), Buffer.concat(chunks))));
      });
      req.on('timeout', () => req.destroy(new Error(`the subgraph at ${url} did not answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
}
