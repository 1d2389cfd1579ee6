import { API_TOKEN_PREFIX } from '@pipewright/contracts';
import { createHash, randomBytes } from 'node:crypto';

/** A new API token: the prefix and 32 random bytes, base64url (43 characters). */
export function newApiToken(): string {
  return API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** What is stored of a token: the SHA-256 of the whole token, hex. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Whether a string has the shape of a token this service issues. */
export function looksLikeApiToken(token: string): boolean {
  return token.startsWith(API_TOKEN_PREFIX) && /^[A-Za-z0-9_-]{43}$/.test(token.slice(API_TOKEN_PREFIX.length));
}
