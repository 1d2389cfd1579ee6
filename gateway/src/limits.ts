import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';

/**
 * Per-caller rate limit: a token bucket per caller (the bearer token it presents, else its
 * address), refilled at `perSecond` up to `burst`. Buckets of callers gone quiet are dropped.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxCallers = 100_000,
  ) {}

  get enabled(): boolean {
    return this.perSecond > 0;
  }

  /** Takes one request's token: null when allowed, else the seconds to wait (Retry-After). */
  take(caller: string, now = Date.now()): number | null {
    if (!this.enabled) return null;
    let b = this.buckets.get(caller);
    if (b) {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
      this.buckets.delete(caller); // re-inserted last: the map stays ordered by recent use
    } else {
      b = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxCallers) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(caller, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return null;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }
}

/** Who a request is from, for the rate limit: its token (hashed; each API token or person has its own), else its address. */
export function callerKey(authorization: string | undefined, address: string | undefined): string {
  const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
  return token ? `t:${createHash('sha256').update(token).digest('base64url').slice(0, 22)}` : `a:${addressBucket(address)}`;
}

/**
 * The client's address: the connection's, or with `hops` proxies in front (TRUST_PROXY_HOPS) the
 * X-Forwarded-For entry that many hops back (each proxy appends the address it was reached from;
 * entries further left are the client's to write, so they are never believed).
 */
export function clientAddress(req: Pick<IncomingMessage, 'headers' | 'socket'>, hops: number): string | undefined {
  const own = req.socket.remoteAddress;
  if (hops <= 0) return own;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((a) => a.trim()).filter(Boolean);
  const chain = [own, ...forwarded.reverse()];
  return chain[Math.min(hops, chain.length - 1)];
}

/**
 * The two limits every HTTP request and WebSocket operation passes: its caller's (the bearer token
 * it presents, unverified at this point, else its address) and its address's. The second bounds a
 * client that presents a new token on every request (each would get a full bucket of its own), and
 * is set higher, for callers that share an address (a NAT, a proxy not trusted with TRUST_PROXY).
 */
export class RequestLimiter {
  constructor(
    readonly perCaller: RateLimiter,
    readonly perAddress: RateLimiter,
  ) {}

  /** Takes one request from both buckets: null when allowed, else the error (with the seconds to wait). */
  take(authorization: string | undefined, address: string | undefined, now = Date.now()): GraphQLError | null {
    const callerWait = this.perCaller.take(callerKey(authorization, address), now);
    if (callerWait !== null) return rateLimited(callerWait);
    const addressWait = this.perAddress.take(`a:${addressBucket(address)}`, now);
    if (addressWait !== null) {
      return new GraphQLError(`too many requests from this address: retry in ${addressWait} s (the gateway's RATE_LIMIT_PER_ADDRESS_PER_SECOND / RATE_LIMIT_PER_ADDRESS_BURST)`, {
        extensions: { code: 'RATE_LIMITED', retryAfterSeconds: addressWait },
      });
    }
    return null;
  }
}

/**
 * The bucket an address counts against: an IPv4 address (also IPv4-mapped IPv6) itself, an IPv6
 * address by its /64 (one host or LAN usually has a whole /64, and could otherwise take a new
 * address for every request).
 */
export function addressBucket(address: string | undefined): string {
  if (!address) return '?';
  // An X-Forwarded-For entry may carry a port: 1.2.3.4:5678, [2001:db8::1]:5678.
  address = address.replace(/^\[([^\]]+)\](?::\d+)?$/, '$1').replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, '$1');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** A GraphQL error for a request past the rate limit. */
export function rateLimited(retryAfter: number): GraphQLError {
  return new GraphQLError(`too many requests from this caller: retry in ${retryAfter} s (the gateway's RATE_LIMIT_PER_SECOND / RATE_LIMIT_BURST)`, {
    extensions: { code: 'RATE_LIMITED', retryAfterSeconds: retryAfter },
  });
}

/**
 * Validation rules for query depth and cost: depth is the deepest field nesting (fragments
 * followed), cost the number of fields selected with fragments expanded where they are spread.
 * Both refuse before anything is executed, naming the limit and the setting.
 */
export function queryLimitRules(maxDepth: number, maxCost: number): ((context: ValidationContext) => ASTVisitor)[] {
  return [
    (context) => ({
      OperationDefinition(node) {
        const fragments: Record<string, FragmentDefinitionNode> = {};
        for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
        const { depth, cost } = measure(node.selectionSet, fragments, 0, new Set());
        const name = node.name ? ` ${node.name.value}` : '';
        if (maxDepth > 0 && depth > maxDepth) {
          context.reportError(new GraphQLError(`operation${name} is nested ${depth} levels deep, more than the gateway allows (${maxDepth}, MAX_QUERY_DEPTH)`, { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX' } }));
        }
        if (maxCost > 0 && cost > maxCost) {
          context.reportError(new GraphQLError(`operation${name} selects ${cost} fields, more than the gateway allows (${maxCost}, MAX_QUERY_COST)`, { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX' } }));
        }
      },
    }),
  ];
}

/**
 * Depth and field count of a selection. Each fragment is measured once and remembered (a fragment
 * spread many times, or fragments spreading each other, cost one walk each), and a fragment spread
 * inside itself counts nothing (the spec's validation refuses such cycles anyway).
 */
function measure(set: SelectionSetNode, fragments: Record<string, FragmentDefinitionNode>, level: number, visiting: Set<string>, memo = new Map<string, { depth: number; cost: number }>()): { depth: number; cost: number } {
  let depth = level;
  let cost = 0;
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      cost += 1;
      if (s.selectionSet) {
        const inner = measure(s.selectionSet, fragments, level + 1, visiting, memo);
        depth = Math.max(depth, inner.depth);
        cost += inner.cost;
      } else depth = Math.max(depth, level + 1);
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      const inner = measure(s.selectionSet, fragments, level, visiting, memo);
      depth = Math.max(depth, inner.depth);
      cost += inner.cost;
    } else {
      const f = fragments[s.name.value];
      if (!f || visiting.has(f.name.value)) continue;
      let own = memo.get(f.name.value);
      if (!own) {
        // Measured from level 0: its depth below the spread, added to the spread's level.
        visiting.add(f.name.value);
        own = measure(f.selectionSet, fragments, 0, visiting, memo);
        visiting.delete(f.name.value);
        memo.set(f.name.value, own);
      }
      depth = Math.max(depth, level + own.depth);
      cost += own.cost;
    }
    // Costs can grow exponentially through fragments: stop counting far past any limit.
    if (cost > 1e9) return { depth, cost };
  }
  return { depth, cost };
}
