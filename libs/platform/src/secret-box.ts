import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A secret at rest: AES-256-GCM ciphertext with the id of the key that sealed it. */
export interface SealedSecret {
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

/**
 * Seals and opens secrets with AES-256-GCM. Several keys may be known (rotation); new secrets are
 * sealed with the active one. The additional data binds a ciphertext to its row and field, so a
 * value copied into another row does not open.
 */
export class SecretBox {
  constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    readonly activeKeyId: string,
  ) {
    if (!keys.has(activeKeyId)) throw new Error(`SECRETS_ACTIVE_KEY names "${activeKeyId}", which is not in SECRETS_KEYS`);
  }

  /** Parses `kid:base64key,kid2:base64key` (each key 32 bytes). Throws naming the bad entry. */
  static parseKeys(spec: string): Map<string, Buffer> {
    const keys = new Map<string, Buffer>();
    for (const entry of spec.split(',').map((e) => e.trim()).filter(Boolean)) {
      const i = entry.indexOf(':');
      const kid = entry.slice(0, i);
      const key = Buffer.from(entry.slice(i + 1), 'base64');
      if (i <= 0 || !/^[A-Za-z0-9_-]+$/.test(kid)) throw new Error(`an entry is not "<key id>:<base64 key>"`);
      if (key.length !== 32) throw new Error(`key "${kid}" must be 32 bytes of base64 (got ${key.length} bytes)`);
      keys.set(kid, key);
    }
    if (!keys.size) throw new Error('no keys given');
    return keys;
  }

  seal(plaintext: string, aad: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.activeKeyId)!, iv);
    cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { kid: this.activeKeyId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
  }

  open(sealed: SealedSecret, aad: string): string {
    const key = this.keys.get(sealed.kid);
    if (!key) throw new Error(`secret sealed with key "${sealed.kid}", which SECRETS_KEYS no longer holds; add it back to read it`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
  }

  /** Re-seals under the active key when another key sealed it; null when it is current. */
  reseal(sealed: SealedSecret, aad: string): SealedSecret | null {
    return sealed.kid === this.activeKeyId ? null : this.seal(this.open(sealed, aad), aad);
  }
}
