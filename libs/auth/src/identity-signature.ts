import { identitySchema, type Identity, type IdentityInput } from '@pipewright/contracts';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Headers the gateway adds to every subgraph request. */
export const IDENTITY_HEADER = 'x-pw-identity';
export const SIGNATURE_HEADER = 'x-pw-signature';
/** A random value per request: a subgraph refuses one it has seen within the window. */
export const NONCE_HEADER = 'x-pw-nonce';
/** The subgraph the request is for: a request signed for one subgraph is refused by another. */
export const AUDIENCE_HEADER = 'x-pw-audience';

/** How far a signature's time may be from the subgraph's clock before it is refused (replay window). */
export const MAX_AGE_SECONDS = 60;

export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

/** What of an HTTP request the signature covers besides the identity. */
export interface SignedParts {
  method: string;
  /** Path and query string, as the subgraph sees it (`/graphql`). */
  path: string;
  body: Buffer | string | undefined;
  /** The subgraph's name (`projects`, `executions`, ...). */
  audience: string;
}

function hmac(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url');
}

function canonical(parts: SignedParts, nonce: string, identity: string): string {
  const bodyHash = createHash('sha256')
    .update(parts.body ?? '')
    .digest('base64url');
  return ['pw-v2', parts.method.toUpperCase(), parts.path, bodyHash, parts.audience, nonce, identity].join('\n');
}

/** The identity header's value: the caller's identity and when it was signed. */
export function encodeIdentity(identity: IdentityInput, now = Date.now()): string {
  return Buffer.from(JSON.stringify({ ...identity, iat: Math.floor(now / 1000) })).toString('base64url');
}

/**
 * Signs one request for one subgraph: method, path, a hash of the body, the subgraph, a fresh
 * nonce and the identity (with its time), so a captured request cannot be sent again, with another
 * body, or to another subgraph.
 */
export function signRequestWith(identityValue: string, parts: SignedParts, secret: string): Record<string, string> {
  const nonce = randomBytes(16).toString('base64url');
  return {
    [IDENTITY_HEADER]: identityValue,
    [AUDIENCE_HEADER]: parts.audience,
    [NONCE_HEADER]: nonce,
    [SIGNATURE_HEADER]: hmac(secret, canonical(parts, nonce, identityValue)),
  };
}

export function signRequest(identity: IdentityInput, parts: SignedParts, secret: string, now = Date.now()): Record<string, string> {
  return signRequestWith(encodeIdentity(identity, now), parts, secret);
}

/**
 * The nonces a subgraph process has accepted within the window, in two generations that rotate
 * every 2x the window: a nonce is remembered at least as long as its signature could still be
 * accepted, and memory stays bounded by the request rate.
 */
export class NonceMemory {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotatedAt: number;

  constructor(
    private readonly keepMs = 2 * MAX_AGE_SECONDS * 1000,
    now = Date.now(),
  ) {
    this.rotatedAt = now;
  }

  /** Records the nonce; false when it was seen already. */
  accept(nonce: string, now = Date.now()): boolean {
    if (now - this.rotatedAt >= this.keepMs) {
      this.previous = now - this.rotatedAt >= 2 * this.keepMs ? new Set() : this.current;
      this.current = new Set();
      this.rotatedAt = now;
    }
    if (this.current.has(nonce) || this.previous.has(nonce)) return false;
    this.current.add(nonce);
    return true;
  }
}

/** Verifies the gateway's signature over this request and returns the identity, or throws saying what is wrong. */
export function verifyRequest(
  headers: Record<string, string | string[] | undefined>,
  parts: SignedParts,
  secret: string,
  nonces: NonceMemory,
  now = Date.now(),
): Identity {
  const value = single(headers[IDENTITY_HEADER]);
  const signature = single(headers[SIGNATURE_HEADER]);
  const nonce = single(headers[NONCE_HEADER]);
  const audience = single(headers[AUDIENCE_HEADER]);
  if (!value || !signature) throw new SignatureError('missing gateway signature: call the gateway, not a subgraph');
  if (!nonce || !audience) throw new SignatureError('incomplete gateway signature (no nonce or audience): the gateway and this subgraph run different versions');
  if (audience !== parts.audience) throw new SignatureError(`gateway signature for another subgraph ("${audience}"), not ${parts.audience}`);
  const expected = Buffer.from(hmac(secret, canonical(parts, nonce, value)));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new SignatureError('invalid gateway signature');
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw new SignatureError('malformed identity header');
  }
  const iat = (decoded as { iat?: unknown }).iat;
  if (typeof iat !== 'number' || Math.abs(now / 1000 - iat) > MAX_AGE_SECONDS) {
    throw new SignatureError('expired gateway signature');
  }
  // Only a valid, fresh signature's nonce is remembered (so a flood of forged ones costs nothing).
  if (!nonces.accept(nonce, now)) throw new SignatureError('replayed gateway signature: its nonce was used already');
  const parsed = identitySchema.safeParse(decoded);
  if (!parsed.success) throw new SignatureError('malformed identity header');
  return parsed.data;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
