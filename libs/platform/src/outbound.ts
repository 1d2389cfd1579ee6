import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, fetch, Response, type HeadersInit } from 'undici';

/**
 * The outbound-request guard: a URL that a pipeline author or a project admin controls (a
 * WEBHOOK stage, a Jenkins or chart repository URL) may not reach the platform's own network. Its
 * host is resolved, every address checked, and the connection made to the checked address only
 * (no second lookup, so a name that resolves elsewhere the next time cannot slip past); each
 * redirect is checked again. Loopback, private, link-local (cloud metadata among them),
 * multicast and other special-purpose addresses are refused unless the operator allows them in
 * OUTBOUND_ALLOW (comma-separated CIDRs, or host:port).
 */

/** Special-purpose ranges, with the name an error gives them. */
const RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'an unspecified ("this network") address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a shared (carrier-grade NAT) address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address (where cloud metadata services answer)'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.0.0.0', 24, 'ipv4', 'an IETF protocol address'],
  ['192.0.2.0', 24, 'ipv4', 'a documentation address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['198.18.0.0', 15, 'ipv4', 'a benchmarking address'],
  ['198.51.100.0', 24, 'ipv4', 'a documentation address'],
  ['203.0.113.0', 24, 'ipv4', 'a documentation address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['::', 128, 'ipv6', 'an unspecified address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  ['fc00::', 7, 'ipv6', 'a private (unique local) address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['fec0::', 10, 'ipv6', 'a site-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
  ['2001:db8::', 32, 'ipv6', 'a documentation address'],
  ['100::', 64, 'ipv6', 'a discard address'],
];

const special = RANGES.map(([net, prefix, type, kind]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return { list, type, kind };
});

/** An IPv4 address an IPv6 one carries (IPv4-mapped ::ffff:a.b.c.d, or NAT64 64:ff9b::a.b.c.d), or null. */
function embeddedIPv4(address: string): string | null {
  const m = /^(?:::ffff:|64:ff9b::)(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return null;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** What kind of special-purpose address this is ("a loopback address"), or null for a public one. */
export function specialAddressKind(address: string): string | null {
  const v4 = isIP(address) === 6 ? embeddedIPv4(address) : null;
  const [addr, type] = v4 ? [v4, 'ipv4' as const] : [address, isIP(address) === 4 ? ('ipv4' as const) : ('ipv6' as const)];
  for (const r of special) if (r.type === type && r.list.check(addr, type)) return r.kind;
  return null;
}

/** What OUTBOUND_ALLOW lets through: address ranges, and exact host:port pairs. */
export interface OutboundPolicy {
  readonly ranges: BlockList;
  readonly hostPorts: ReadonlySet<string>;
  /** The setting as given (for messages). */
  readonly text: string;
}

/** Parses OUTBOUND_ALLOW; a bad entry throws naming it and the forms that are accepted. */
export function parseOutboundAllow(value: string | undefined): OutboundPolicy {
  const ranges = new BlockList();
  const hostPorts = new Set<string>();
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const cidr = /^([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?$/.exec(entry);
    if (cidr && isIP(cidr[1])) {
      const type = isIP(cidr[1]) === 4 ? 'ipv4' : 'ipv6';
      const prefix = cidr[2] === undefined ? (type === 'ipv4' ? 32 : 128) : Number(cidr[2]);
      if (prefix > (type === 'ipv4' ? 32 : 128)) throw new Error(`OUTBOUND_ALLOW entry "${entry}": the prefix length must be at most ${type === 'ipv4' ? 32 : 128}`);
      ranges.addSubnet(cidr[1], prefix, type);
      continue;
    }
    const hp = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    if (hp && Number(hp[2]) >= 1 && Number(hp[2]) <= 65535) {
      hostPorts.add(`${hp[1].replace(/^\[|\]$/g, '').toLowerCase()}:${Number(hp[2])}`);
      continue;
    }
    throw new Error(`OUTBOUND_ALLOW entry "${entry}" is neither a CIDR (10.0.0.0/8, fd00::/8, 127.0.0.1) nor host:port (127.0.0.1:8080, [::1]:8080, hooks.internal:443)`);
  }
  return { ranges, hostPorts, text: value ?? '' };
}

/** A URL the guard refused: which address, why, and the setting that would allow it. */
export class OutboundRefusedError extends Error {
  override readonly name = 'OutboundRefusedError';
  constructor(
    readonly url: string,
    readonly address: string | null,
    reason: string,
  ) {
    super(reason);
  }
}

function isAllowed(policy: OutboundPolicy, host: string, address: string, port: number): boolean {
  const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
  return policy.ranges.check(address, type) || policy.hostPorts.has(`${host.toLowerCase()}:${port}`) || policy.hostPorts.has(`${address.toLowerCase()}:${port}`);
}

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/** The addresses `url` may be reached at, each checked; throws OutboundRefusedError naming the first refused. */
export async function checkOutboundUrl(url: URL, policy: OutboundPolicy): Promise<CheckedAddress[]> {
  const shown = `${url.protocol}//${url.host}`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefusedError(url.href, null, `${shown}: only http and https URLs may be called (got ${url.protocol})`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  let addresses: CheckedAddress[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) as 4 | 6 }];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    } catch (err) {
      throw new OutboundRefusedError(url.href, null, `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  for (const { address } of addresses) {
    const kind = specialAddressKind(address);
    if (kind && !isAllowed(policy, host, address, port)) {
      const via = address === host ? '' : ` (${host} resolves to it)`;
      const hostPort = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
      throw new OutboundRefusedError(
        url.href,
        address,
        `refused to connect to ${address}${via} for ${shown}: it is ${kind}, which pipelines may not reach; an operator may allow it with OUTBOUND_ALLOW (e.g. OUTBOUND_ALLOW=${hostPort}${policy.text ? `,${policy.text}` : ''})`,
      );
    }
  }
  return addresses;
}

/** A lookup that answers only the addresses already checked (no second resolution): for net/tls/http `lookup`. */
export function pinnedLookup(addresses: CheckedAddress[]): LookupFunction {
  return ((_host: string, options: { all?: boolean; family?: number }, callback: (...args: unknown[]) => void) => {
    const usable = options.family ? addresses.filter((a) => a.family === options.family) : addresses;
    const list = usable.length ? usable : addresses;
    if (options.all) callback(null, list);
    else callback(null, list[0].address, list[0].family);
  }) as unknown as LookupFunction;
}

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** 'follow' (default: each redirect checked again, at most 10) or 'manual' (a 3xx is the answer). */
  redirect?: 'follow' | 'manual';
  /** The answer's body is read up to this many bytes (default 1 MiB); `truncated` says whether there was more. */
  maxBytes?: number;
}

export type OutboundResponse = Response & { truncated: boolean; url: string };

const MAX_REDIRECTS = 10;

/**
 * fetch() behind the guard. The body is read here (up to maxBytes), so the connection (made to
 * the checked address only) is free for the next call when this returns.
 */
export async function outboundFetch(input: string, init: OutboundRequest, policy: OutboundPolicy): Promise<OutboundResponse> {
  let url = new URL(input);
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  const headers: Record<string, string> = { ...init.headers };
  for (let hop = 0; ; hop++) {
    const addresses = await checkOutboundUrl(url, policy);
    const agent = agentFor(url, addresses);
    const res = await fetch(url, { method, headers: headers as HeadersInit, body, signal: init.signal, redirect: 'manual', dispatcher: agent });
    const location = res.headers.get('location');
    if (init.redirect !== 'manual' && location && [301, 302, 303, 307, 308].includes(res.status)) {
      await res.body?.cancel().catch(() => undefined);
      if (hop >= MAX_REDIRECTS) throw new OutboundRefusedError(url.href, null, `more than ${MAX_REDIRECTS} redirects from ${input}`);
      const next = new URL(location, url);
      // As fetch does: 303 (and 301/302 after a POST) become a GET without a body; credentials stay with their origin.
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        for (const h of Object.keys(headers)) if (/^content-/i.test(h)) delete headers[h];
      }
      if (next.origin !== url.origin) for (const h of Object.keys(headers)) if (/^(authorization|cookie|proxy-authorization)$/i.test(h)) delete headers[h];
      url = next;
      continue;
    }
    const { bytes, truncated } = await readLimited(res, init.maxBytes ?? 1024 * 1024);
    const out = new Response([101, 204, 205, 304].includes(res.status) || method === 'HEAD' ? null : bytes, { status: res.status, statusText: res.statusText, headers: res.headers }) as OutboundResponse;
    Object.defineProperty(out, 'truncated', { value: truncated });
    Object.defineProperty(out, 'url', { value: url.href });
    return out;
  }
}

/**
 * Kept-alive connections per origin and checked address set: an agent only ever connects to the
 * addresses it was made for (its lookup is pinned), so reusing it for the same answer keeps the
 * guard, and a webhook called every step does not pay a new connection each time.
 */
const agents = new Map<string, Agent>();
const MAX_AGENTS = 64;
const agentKey = (url: URL, addresses: CheckedAddress[]) => `${url.protocol}//${url.host}|${addresses.map((a) => a.address).join(',')}`;

function agentFor(url: URL, addresses: CheckedAddress[]): Agent {
  const key = agentKey(url, addresses);
  let agent = agents.get(key);
  if (agent) agents.delete(key); // re-inserted last: the map stays ordered by recent use
  else {
    agent = new Agent({ connect: { lookup: pinnedLookup(addresses) }, keepAliveTimeout: 4000 });
    if (agents.size >= MAX_AGENTS) {
      const [oldest, old] = agents.entries().next().value!;
      agents.delete(oldest);
      void old.close().catch(() => undefined);
    }
  }
  agents.set(key, agent);
  return agent;
}

async function readLimited(res: Response, maxBytes: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  if (!res.body) return { bytes: Buffer.alloc(0), truncated: false };
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), truncated: false };
    const chunk = Buffer.from(value);
    if (size + chunk.length > maxBytes) {
      chunks.push(chunk.subarray(0, maxBytes - size));
      await reader.cancel().catch(() => undefined);
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
}
