import { AUDIENCE_HEADER, IDENTITY_HEADER, signRequestWith } from '@pipewright/auth';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export type Fetcher = NonNullable<NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher']>;
type FetcherResponse = Awaited<ReturnType<Fetcher>>;
type FetcherHeaders = FetcherResponse['headers'];

/**
 * How long a kept-alive connection may sit unused. Short, so that the gateway closes it before a
 * proxy or server in between does (one that sends no Keep-Alive hint): a reused connection is
 * never one being closed under it.
 */
const IDLE_SOCKET_MS = 4_000;

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
export function subgraphFetcher(timeoutMs: number, options: { secret?: string } = {}): Fetcher {
  // The agent's timeout is an idle socket's (lowered further to a server's Keep-Alive hint); a request sets its own.
  const agent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: IDLE_SOCKET_MS });
  const httpsAgent = new HttpsAgent({ keepAlive: true, scheduling: 'lifo', timeout: IDLE_SOCKET_MS });
  return (url, init = {}) =>
    new Promise<FetcherResponse>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const body = init.body === undefined ? undefined : typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
      const headers: Record<string, string | number> = { ...init.headers };
      if (body) headers['content-length'] = body.byteLength;
      // The signature covers the request as it is sent: method, path, body, subgraph, a nonce and the
      // identity the data source set (SigningDataSource). Signed here, where the body's bytes are final.
      const identity = headers[IDENTITY_HEADER];
      if (options.secret && typeof identity === 'string') {
        const audience = String(headers[AUDIENCE_HEADER] ?? '');
        Object.assign(headers, signRequestWith(identity, { method: init.method ?? 'GET', path: target.pathname + target.search, body, audience }, options.secret));
      }
      const req = (secure ? httpsRequest : request)(target, { method: init.method ?? 'GET', headers, agent: secure ? httpsAgent : agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve(responseOf(url, res.statusCode ?? 0, res.statusMessage ?? '', new ResponseHeaders(res.headers), Buffer.concat(chunks))));
      });
      req.on('timeout', () => req.destroy(new Error(`the subgraph at ${url} sent nothing for ${timeoutMs} ms (SUBGRAPH_TIMEOUT_MS)`)));
      req.on('error', reject);
      req.end(body);
    });
}
