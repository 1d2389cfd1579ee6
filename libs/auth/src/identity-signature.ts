import { identitySchema, type Identity, type IdentityInput } from '@pipewright/contracts';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers the gateway adds to every subgraph request. */
export const IDENTITY_HEADER = 'x-pw-identity';
export const SIGNATURE_HEADER = 'x-pw-signature';

/** How old a signed identity may be before a subgraph refuses it (replay window). */
const MAX_AGE_SECONDS = 300;

export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

function hmac(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url');
}

/** Signs the caller's identity for a subgraph; `iat` bounds how long the pair can be replayed. */
export function signIdentity(identity: IdentityInput, secret: string, now = Date.now()): Record<string, string> {
  const value = Buffer.from(JSON.stringify({ ...identity, iat: Math.floor(now / 1000) })).toString('base64url');
  return { [IDENTITY_HEADER]: value, [SIGNATURE_HEADER]: hmac(secret, value) };
}

/** Verifies the gateway's signature and returns the identity, or throws saying what is wrong. */
export function verifyIdentity(
  headers: Record<string, string | string[] | undefined>,
  secret: string,
  now = Date.now(),
): Identity {
  const value = single(headers[IDENTITY_HEADER]);
  const signature = single(headers[SIGNATURE_HEADER]);
  if (!value || !signature) throw new SignatureError('missing gateway signature: call the gateway, not a subgraph');
  const expected = Buffer.from(hmac(secret, value));
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
  const parsed = identitySchema.safeParse(decoded);
  if (!parsed.success) throw new SignatureError('malformed identity header');
  return parsed.data;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
