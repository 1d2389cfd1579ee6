import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkOutboundUrl, OutboundRefusedError, pinnedLookup, type CheckedAddress, type OutboundPolicy } from '@pipewright/platform';

/** A probe that failed, with a message that says what failed and what to check. */
export class ProbeFailure extends Error {
  constructor(
    message: string,
    readonly reason: 'DNS' | 'CONNECTION' | 'TIMEOUT' | 'TLS' | 'HTTP' | 'PROTOCOL',
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ProbeFailure';
  }
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  /** PEM CA bundle to trust instead of the system's. */
  ca?: string;
  /** Skip certificate verification (self-signed servers the user chose to trust). */
  insecure?: boolean;
  cert?: string;
  key?: string;
  timeoutMs: number;
  /** Largest body kept, in bytes. */
  maxBytes?: number;
  /** Behind the outbound guard: the URL's addresses are checked first and the request made to them only. */
  outbound?: OutboundPolicy;
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** Turns a socket-level error into words a user can act on. */
export function describeNetworkError(err: NodeJS.ErrnoException & { reason?: string }, url: URL, timeoutMs: number): ProbeFailure {
  const where = `${url.hostname}${url.port ? `:${url.port}` : ''}`;
  const code = err.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ProbeFailure(`cannot resolve the host "${url.hostname}" (DNS): check the host name in the URL`, 'DNS', { code });
  }
  if (code === 'ECONNREFUSED') {
    return new ProbeFailure(`connection refused by ${where}: nothing listens there; check the host and port`, 'CONNECTION', { code });
  }
  if (code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new ProbeFailure(`cannot reach ${where} (${code}): check the address and that the network allows it`, 'CONNECTION', { code });
  }
  if (code === 'PROBE_TIMEOUT' || code === 'ETIMEDOUT') {
    return new ProbeFailure(`no answer from ${where} within ${Math.round(timeoutMs / 1000)} s (timeout): check the URL and that the network allows it`, 'TIMEOUT', { code });
  }
  if (TLS_CODES.has(code)) {
    return new ProbeFailure(
      `TLS failed: the certificate of ${where} is not trusted (${code}): give the CA certificate that signed it, or mark the endpoint insecure`,
      'TLS',
      { code, error: err.message },
    );
  }
  if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(err.message)) {
    return new ProbeFailure(`TLS failed: ${where} does not speak TLS on this port; use an http:// URL or the insecure option`, 'TLS', { code });
  }
  return new ProbeFailure(`cannot reach ${where}: ${err.message}`, 'CONNECTION', { code });
}

/** What an HTTP status means for a probe, or null when it is a success. */
export function describeStatus(status: number, url: URL, credential: string): ProbeFailure | null {
  if (status >= 200 && status < 300) return null;
  const at = `${url.origin}${url.pathname}`;
  if (status === 401) return new ProbeFailure(`authentication failed (401) at ${at}: check the ${credential}`, 'HTTP', { status });
  if (status === 403) return new ProbeFailure(`access denied (403) at ${at}: the ${credential} is valid but lacks permission`, 'HTTP', { status });
  if (status === 404) return new ProbeFailure(`not found (404) at ${at}: check the URL`, 'HTTP', { status });
  if (status >= 500) return new ProbeFailure(`the server failed (${status}) at ${at}: try again later or check its logs`, 'HTTP', { status });
  return new ProbeFailure(`unexpected answer ${status} at ${at}`, 'HTTP', { status });
}

/** One HTTP(S) request with a hard deadline, custom trust and client certificates (behind the outbound guard when given one). */
export async function fetchWithin(url: URL, opts: HttpOptions): Promise<HttpResult> {
  if (!opts.outbound) return request(url, opts);
  let addresses: CheckedAddress[];
  try {
    addresses = await checkOutboundUrl(url, opts.outbound);
  } catch (err) {
    if (err instanceof OutboundRefusedError) throw new ProbeFailure(err.message, 'CONNECTION', { address: err.address, setting: 'OUTBOUND_ALLOW' });
    throw err;
  }
  return request(url, opts, pinnedLookup(addresses));
}

function request(url: URL, opts: HttpOptions, lookup?: LookupFunction): Promise<HttpResult> {
  const maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const req = (isHttps ? httpsRequest : httpRequest)(
      url,
      {
        method: opts.method ?? 'GET',
        headers: { 'user-agent': 'pipewright-probe', ...opts.headers },
        // Pinned: a connection of its own (the shared keep-alive pool would not use this lookup).
        ...(lookup ? { lookup, agent: false } : {}),
        ...(isHttps ? { ca: opts.ca || undefined, rejectUnauthorized: !opts.insecure, cert: opts.cert, key: opts.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= maxBytes) chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(describeNetworkError(e, url, opts.timeoutMs));
        });
      },
    );
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'PROBE_TIMEOUT' })), opts.timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(describeNetworkError(e, url, opts.timeoutMs));
    });
    req.end();
  });
}

export const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
