import { NonceMemory, signRequest, verifyRequest, MAX_AGE_SECONDS, NONCE_HEADER } from '../src/identity-signature';

const secret = 'spec-internal-secret-0123456789';
const parts = { method: 'POST', path: '/graphql', body: '{"query":"{ a }"}', audience: 'pipelines' };
const identity = { sub: 'alice', roles: ['VIEWER' as const] };

describe('gateway request signature', () => {
  it('covers method, path, body and subgraph: changing any one of them is refused', () => {
    const now = Date.now();
    const headers = signRequest(identity, parts, secret, now);
    expect(verifyRequest(headers, parts, secret, new NonceMemory(), now)).toMatchObject({ sub: 'alice', roles: ['VIEWER'] });
    for (const changed of [{ method: 'GET' }, { path: '/graphql?x=1' }, { body: '{"query":"{ b }"}' }]) {
      expect(() => verifyRequest(headers, { ...parts, ...changed }, secret, new NonceMemory(), now)).toThrow('invalid gateway signature');
    }
    expect(() => verifyRequest(headers, { ...parts, audience: 'projects' }, secret, new NonceMemory(), now)).toThrow('gateway signature for another subgraph ("pipelines"), not projects');
    expect(() => verifyRequest({ ...headers, [NONCE_HEADER]: 'another-nonce' }, parts, secret, new NonceMemory(), now)).toThrow('invalid gateway signature');
  });

  it('refuses a nonce it has seen within the window, and forgets it only after the window', () => {
    const t0 = Date.now();
    const nonces = new NonceMemory(2 * MAX_AGE_SECONDS * 1000, t0);
    const headers = signRequest(identity, parts, secret, t0);
    verifyRequest(headers, parts, secret, nonces, t0);
    expect(() => verifyRequest(headers, parts, secret, nonces, t0 + 1000)).toThrow('replayed gateway signature: its nonce was used already');
    // Still remembered at the end of the window, when the signature itself still counts.
    expect(() => verifyRequest(headers, parts, secret, nonces, t0 + (MAX_AGE_SECONDS - 1) * 1000)).toThrow(/replayed/);
    // After it, the signature has expired anyway.
    expect(() => verifyRequest(headers, parts, secret, nonces, t0 + (MAX_AGE_SECONDS + 2) * 1000)).toThrow('expired gateway signature');
    // The memory rotates: what was accepted 2x the window ago is still known one rotation later.
    expect(nonces.accept('n1', t0 + 1)).toBe(true);
    expect(nonces.accept('n1', t0 + 2 * MAX_AGE_SECONDS * 1000 + 5)).toBe(false);
    expect(nonces.accept('n1', t0 + 4 * MAX_AGE_SECONDS * 1000 + 10)).toBe(true);
  });

  it('does not remember the nonce of a forged or expired request', () => {
    const now = Date.now();
    const nonces = new NonceMemory();
    const forged = signRequest(identity, parts, 'not-the-secret', now);
    expect(() => verifyRequest(forged, parts, secret, nonces, now)).toThrow('invalid gateway signature');
    expect(nonces.accept(forged[NONCE_HEADER], now)).toBe(true);
  });

  it('refuses an incomplete signature (an older gateway) and a missing one', () => {
    const headers = signRequest(identity, parts, secret);
    const { [NONCE_HEADER]: _n, ...noNonce } = headers;
    expect(() => verifyRequest(noNonce, parts, secret, new NonceMemory())).toThrow(/incomplete gateway signature/);
    expect(() => verifyRequest({}, parts, secret, new NonceMemory())).toThrow('missing gateway signature: call the gateway, not a subgraph');
  });
});
