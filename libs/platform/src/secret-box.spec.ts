import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

const key = () => randomBytes(32);

describe('SecretBox', () => {
  it('opens what it sealed, and the ciphertext does not hold the plaintext', () => {
    const box = new SecretBox(new Map([['k1', key()]]), 'k1');
    const sealed = box.seal('hunter2-token', 'row:token');
    expect(JSON.stringify(sealed)).not.toContain('hunter2');
    expect(sealed.kid).toBe('k1');
    expect(box.open(sealed, 'row:token')).toBe('hunter2-token');
  });

  it('refuses a ciphertext moved to another row or field', () => {
    const box = new SecretBox(new Map([['k1', key()]]), 'k1');
    const sealed = box.seal('s', 'row-a:token');
    expect(() => box.open(sealed, 'row-b:token')).toThrow();
  });

  it('reseals under the active key and leaves current ones alone', () => {
    const k1 = key();
    const old = new SecretBox(new Map([['k1', k1]]), 'k1');
    const sealed = old.seal('s', 'aad');
    const rotated = new SecretBox(new Map([['k1', k1], ['k2', key()]]), 'k2');
    const resealed = rotated.reseal(sealed, 'aad')!;
    expect(resealed.kid).toBe('k2');
    expect(rotated.open(resealed, 'aad')).toBe('s');
    expect(rotated.reseal(resealed, 'aad')).toBeNull();
  });

  it('parses key specs and names the bad one', () => {
    const good = `k1:${key().toString('base64')},k2:${key().toString('base64')}`;
    expect([...SecretBox.parseKeys(good).keys()]).toEqual(['k1', 'k2']);
    expect(() => SecretBox.parseKeys('k1:c2hvcnQ=')).toThrow('key "k1" must be 32 bytes');
    expect(() => new SecretBox(SecretBox.parseKeys(good), 'k9')).toThrow('SECRETS_ACTIVE_KEY names "k9"');
  });
});
