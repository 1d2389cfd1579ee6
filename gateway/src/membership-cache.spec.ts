import type { Membership } from '@pipewright/contracts';
import { MembershipCache } from './membership-cache';

const A: Membership[] = [{ projectId: '00000000-0000-4000-8000-00000000000a', slug: 'a', roles: ['DEVELOPER'] }];
const B: Membership[] = [{ projectId: '00000000-0000-4000-8000-00000000000b', slug: 'b', roles: ['VIEWER'] }];

/** A lookup that answers when told to, counting its calls. */
function deferredLookup() {
  const calls: ((m: Membership[]) => void)[] = [];
  return {
    calls,
    lookup: () => new Promise<Membership[]>((resolve) => calls.push(resolve)),
  };
}

describe('MembershipCache', () => {
  it('asks once, then answers from memory until the TTL ends', async () => {
    let now = 1000;
    const cache = new MembershipCache(10_000, () => now);
    let asked = 0;
    const lookup = async () => (asked++, asked === 1 ? A : B);
    expect(await cache.get('dana', lookup)).toEqual(A);
    now += 9_999;
    expect(await cache.get('dana', lookup)).toEqual(A);
    expect(asked).toBe(1);
    now += 1;
    expect(await cache.get('dana', lookup)).toEqual(B);
    expect(asked).toBe(2);
  });

  it('keeps callers apart', async () => {
    const cache = new MembershipCache(10_000);
    expect(await cache.get('dana', async () => A)).toEqual(A);
    expect(await cache.get('boris', async () => B)).toEqual(B);
    expect(await cache.get('dana', async () => B)).toEqual(A);
  });

  it('asks again after clear()', async () => {
    const cache = new MembershipCache(10_000);
    await cache.get('dana', async () => A);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(await cache.get('dana', async () => B)).toEqual(B);
  });

  it('shares one lookup between concurrent requests of a caller', async () => {
    const cache = new MembershipCache(10_000);
    const d = deferredLookup();
    const first = cache.get('dana', d.lookup);
    const second = cache.get('dana', d.lookup);
    expect(d.calls).toHaveLength(1);
    d.calls[0](A);
    expect(await Promise.all([first, second])).toEqual([A, A]);
  });

  it('does not remember an answer asked before a clear(): it may predate the change', async () => {
    const cache = new MembershipCache(10_000);
    const d = deferredLookup();
    const before = cache.get('dana', d.lookup);
    cache.clear();
    // A request after the clear does not join the lookup from before it.
    const after = cache.get('dana', d.lookup);
    expect(d.calls).toHaveLength(2);
    d.calls[0](A);
    d.calls[1](B);
    expect(await before).toEqual(A);
    expect(await after).toEqual(B);
    expect(await cache.get('dana', async () => A)).toEqual(B);
  });

  it('does not remember a failed lookup', async () => {
    const cache = new MembershipCache(10_000);
    await expect(cache.get('dana', async () => Promise.reject(new Error('no answer')))).rejects.toThrow('no answer');
    expect(await cache.get('dana', async () => A)).toEqual(A);
  });

  it('remembers nothing with a TTL of 0', async () => {
    const cache = new MembershipCache(0);
    await cache.get('dana', async () => A);
    expect(await cache.get('dana', async () => B)).toEqual(B);
    expect(cache.size).toBe(0);
  });
});
