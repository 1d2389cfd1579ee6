import { outboundFetch, OutboundRefusedError, type OutboundResponse } from '@pipewright/platform';
import { resolveSecrets, type Secrets } from './secrets';
import { failed, succeeded, type StageTypeOf } from './stage-type';

const MAX_BODY = 64 * 1024;

/** Calls a URL. 2xx succeeds; a fail-fast status fails at once; anything else is retried. */
export const webhookStage: StageTypeOf<'WEBHOOK'> = {
  type: 'WEBHOOK',
  defaultRetry: { maxAttempts: 3, backoffSeconds: 1 },
  async start(ctx) {
    const { config: c, run, stage, timeLeftMs, attemptKey, signal, outbound } = ctx;
    const headers: Record<string, string> = { 'user-agent': 'pipewright', 'x-pipewright-run': run.id, 'x-pipewright-stage': stage.refId, ...c.headers };
    // One key per stage attempt (and restart): a receiver can drop a repeat delivery after an engine crash.
    headers['idempotency-key'] ??= attemptKey;
    let body: string | undefined;
    if (c.body !== undefined && c.method !== 'GET' && c.method !== 'HEAD') {
      body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
      if (typeof c.body !== 'string') headers['content-type'] ??= 'application/json';
    }
    // ${secrets.NAME} in the URL, headers and body: filled in for the call only; every value is
    // masked in what the stage records (outputs, errors).
    let secrets: Secrets;
    try {
      secrets = await resolveSecrets(ctx, c.url, ...Object.values(headers), body);
    } catch (err) {
      return failed(`WEBHOOK ${c.url}: ${(err as Error).message}`, false);
    }
    const url = secrets.fill(c.url);
    for (const [k, v] of Object.entries(headers)) headers[k] = secrets.fill(v);
    if (body !== undefined) body = secrets.fill(body, typeof c.body !== 'string');
    let res: OutboundResponse;
    const limitMs = Math.min(c.timeoutSeconds * 1000, timeLeftMs);
    try {
      // Bounded by the attempt's timeout and by the engine's lease (lost lease: another worker may take over).
      // Behind the outbound guard: an address of the platform's own network is refused, on every redirect too.
      res = await outboundFetch(url, { method: c.method, headers, body, signal: AbortSignal.any([AbortSignal.timeout(Math.max(1, limitMs)), signal]), maxBytes: MAX_BODY + 1 }, outbound);
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string; errors?: { code?: string }[] } };
      // A refused address is the pipeline's (or the operator's) to change: trying again cannot help.
      if (err instanceof OutboundRefusedError) return failed(secrets.mask(`WEBHOOK ${c.url}: ${err.message}`), false);
      if (signal.aborted) return failed(`the call to ${c.url} was cut: ${secrets.mask(String(signal.reason))}`, true);
      if (e.name === 'TimeoutError') return failed(`no answer from ${c.url} within ${Math.round(limitMs / 100) / 10} s (timeout)`, true);
      return failed(secrets.mask(`cannot reach ${c.url}: ${e.cause?.code ?? e.cause?.errors?.[0]?.code ?? e.cause?.message ?? e.message}`), true);
    }
    const text = await res.text();
    const truncated = res.truncated || text.length > MAX_BODY;
    const raw = truncated ? text.slice(0, MAX_BODY) : text;
    let parsed: unknown = raw;
    if (!truncated && /json/i.test(res.headers.get('content-type') ?? '')) {
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = raw;
      }
    }
    const outputs = secrets.maskDeep({ status: res.status, headers: Object.fromEntries(res.headers.entries()), body: parsed, bodyTruncated: truncated });
    if (res.ok) return succeeded(outputs);
    if (c.failFastStatusCodes.includes(res.status)) return failed(`${c.url} answered ${res.status}, a fail-fast status: not retried`, false, outputs);
    return failed(`${c.url} answered ${res.status}`, true, outputs);
  },
};
