import { buildSchema, parse, validate } from 'graphql';
import { addressBucket, clientAddress, queryLimitRules, RateLimiter, RequestLimiter } from './limits';

const schema = buildSchema('type Query { a: A  n: Int } type A { b: A  n: Int }');

describe('query limits', () => {
  const check = (query: string, depth = 5, cost = 100) => validate(schema, parse(query), queryLimitRules(depth, cost)).map((e) => e.message);

  it('measures depth and cost through fragments, each fragment once', () => {
    expect(check('{ a { b { n } } }')).toEqual([]);
    expect(check('{ a { b { b { b { b { n } } } } } }')).toEqual(['operation is nested 6 levels deep, more than the gateway allows (5, MAX_QUERY_DEPTH)']);
    expect(check('query Q { a { ...F } } fragment F on A { b { b { b { b { n } } } } }')).toEqual(['operation Q is nested 6 levels deep, more than the gateway allows (5, MAX_QUERY_DEPTH)']);
    expect(check(`{ ${Array.from({ length: 60 }, (_, i) => `x${i}: n`).join(' ')} }`, 5, 50)).toEqual(['operation selects 60 fields, more than the gateway allows (50, MAX_QUERY_COST)']);
  });

  it('refuses fragments that multiply (each spreads the next twice) without walking 2^30 selections', () => {
    const fragments = Array.from({ length: 30 }, (_, i) => `fragment F${i} on Query { ${i === 29 ? 'n' : `...F${i + 1} ...F${i + 1}`} }`).join('\n');
    const errors = check(`query Bomb { ...F0 }\n${fragments}`, 20, 5000);
    expect(errors).toEqual([expect.stringMatching(/^operation Bomb selects \d+ fields, more than the gateway allows \(5000, MAX_QUERY_COST\)$/)]);
  });
});

describe('rate limiter', () => {
  it('allows the burst, then one request per refill, and tells how long to wait', () => {
    const r = new RateLimiter(2, 3);
    const t = 1_000_000;
    expect([r.take('a', t), r.take('a', t), r.take('a', t)]).toEqual([null, null, null]);
    expect(r.take('a', t)).toBe(1);
    expect(r.take('b', t)).toBeNull(); // another caller has a bucket of its own
    expect(r.take('a', t + 500)).toBeNull(); // half a second refills one
    expect(r.take('a', t + 500)).toBe(1);
    expect(new RateLimiter(0, 1).take('a')).toBeNull(); // 0: off
  });
});

describe('request limiter', () => {
  it('limits an address that sends a new token each time, after the caller limit, and names the setting', () => {
    const limiter = new RequestLimiter(new RateLimiter(1, 2), new RateLimiter(1, 5));
    const t = 2_000_000;
    const answers = Array.from({ length: 8 }, (_, i) => limiter.take(`Bearer token-${i}`, '10.0.0.9', t));
    expect(answers.slice(0, 5)).toEqual([null, null, null, null, null]);
    expect(answers.slice(5).map((e) => e?.message)).toEqual(Array(3).fill("too many requests from this address: retry in 1 s (the gateway's RATE_LIMIT_PER_ADDRESS_PER_SECOND / RATE_LIMIT_PER_ADDRESS_BURST)"));
    expect(answers[5]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    expect(limiter.take('Bearer token-x', '10.0.0.10', t)).toBeNull(); // another address is served
    // One token past its own bucket is refused as the caller, not charged to the address.
    const one = new RequestLimiter(new RateLimiter(1, 1), new RateLimiter(1, 2));
    expect(one.take('Bearer same', '10.0.0.1', t)).toBeNull();
    expect(one.take('Bearer same', '10.0.0.1', t)?.message).toMatch(/^too many requests from this caller/);
    expect(one.take('Bearer other', '10.0.0.1', t)).toBeNull();
  });

  it('counts an IPv6 address by its /64, an IPv4 one (also mapped) by itself', () => {
    expect(addressBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:0db8:0001:0003::1')).toBe('2001:db8:1:3::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('::ffff:10.0.0.9')).toBe('10.0.0.9');
    expect(addressBucket('10.0.0.9')).toBe('10.0.0.9');
    expect(addressBucket(undefined)).toBe('?');
    expect(addressBucket('10.0.0.9:5678')).toBe('10.0.0.9'); // X-Forwarded-For with a port
    expect(addressBucket('[2001:db8:1:2::9]:5678')).toBe('2001:db8:1:2::/64');
    const limiter = new RequestLimiter(new RateLimiter(1, 5), new RateLimiter(1, 2));
    expect([limiter.take('Bearer a', '2001:db8::1'), limiter.take('Bearer b', '2001:db8::2')]).toEqual([null, null]);
    expect(limiter.take('Bearer c', '2001:db8::3')?.message).toMatch(/^too many requests from this address/);
  });

  it('believes X-Forwarded-For only as many hops back as TRUST_PROXY_HOPS says', () => {
    const req = (xff?: string | string[]) => ({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, socket: { remoteAddress: '10.1.0.2' } }) as unknown as Parameters<typeof clientAddress>[0];
    expect(clientAddress(req('6.6.6.6, 203.0.113.7'), 0)).toBe('10.1.0.2'); // no proxy trusted: the header is the client's own text
    expect(clientAddress(req('6.6.6.6, 203.0.113.7'), 1)).toBe('203.0.113.7'); // what the ingress appended
    expect(clientAddress(req(['6.6.6.6', '203.0.113.7, 10.1.0.1']), 2)).toBe('203.0.113.7');
    expect(clientAddress(req(), 1)).toBe('10.1.0.2'); // no header: the connection's
    expect(clientAddress(req('203.0.113.7'), 5)).toBe('203.0.113.7'); // fewer hops than configured: the farthest there is
  });
});
