import { buildSchema, parse, validate } from 'graphql';
import { queryLimitRules, RateLimiter } from './limits';

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
