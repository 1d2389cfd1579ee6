import { createHash } from 'node:crypto';
import { hashApiToken, looksLikeApiToken, newApiToken } from './api-token-secret';

describe('API token secrets', () => {
  it('are pwt_ and 43 base64url characters, different every time', () => {
    const a = newApiToken();
    const b = newApiToken();
    expect(a).toMatch(/^pwt_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(looksLikeApiToken(a)).toBe(true);
    expect(looksLikeApiToken('pwt_short')).toBe(false);
    expect(looksLikeApiToken(`xyz_${a.slice(4)}`)).toBe(false);
  });

  it('are stored as the sha256 hex of the whole token', () => {
    const token = newApiToken();
    expect(hashApiToken(token)).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hashApiToken(token)).toMatch(/^[0-9a-f]{64}$/);
  });
});
