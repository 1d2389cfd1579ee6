import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Equal in constant time (both hashed first, so their lengths do not show either). */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** GitHub's `X-Hub-Signature-256`: `sha256=` + HMAC-SHA256 of the raw body, hex. */
export function githubSignature(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export type Verification = { ok: true } | { ok: false; reason: string };

/**
 * Checks a delivery's proof that it knows the trigger's secret: GitHub's HMAC of the body, GitLab's
 * token, or a bearer token (registries' notification endpoints, generic webhooks), as `accepts`.
 */
export function verifyDelivery(accepts: 'git' | 'bearer', secret: string, headers: Record<string, string | string[] | undefined>, body: Buffer): Verification {
  const header = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  if (accepts === 'git') {
    const signature = header('x-hub-signature-256');
    if (signature !== undefined) return constantTimeEqual(signature.trim().toLowerCase(), githubSignature(secret, body)) ? { ok: true } : { ok: false, reason: 'X-Hub-Signature-256 does not match the body signed with the trigger\'s secret' };
    const token = header('x-gitlab-token');
    if (token !== undefined) return constantTimeEqual(token, secret) ? { ok: true } : { ok: false, reason: "X-Gitlab-Token is not the trigger's secret token" };
    return { ok: false, reason: "neither X-Hub-Signature-256 (GitHub: set the hook's secret) nor X-Gitlab-Token (GitLab: set the hook's secret token) was sent" };
  }
  const auth = header('authorization');
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
  if (!m) return { ok: false, reason: "no Authorization: Bearer <the trigger's secret> header" };
  return constantTimeEqual(m[1], secret) ? { ok: true } : { ok: false, reason: "the bearer token is not the trigger's secret" };
}
