import type express from 'express';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { GatewayConfig } from './config';
import type { RequestLimiter } from './limits';

/** Headers that describe one connection, not the request: never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/**
 * `POST /hooks/<trigger id>`: where git hosts, registries and webhook senders deliver events. The
 * request goes to the triggers service as it came (its signature covers the body's bytes), rate
 * limited by address and capped at MAX_REQUEST_BYTES; the answer (202, 200, 401 ...) comes back as
 * the triggers service gave it. No caller identity is involved: each delivery proves itself with
 * the trigger's secret.
 */
export function mountHooks(app: express.Express, config: GatewayConfig, rate: RequestLimiter, addressOf: (req: IncomingMessage) => string | undefined) {
  const target = new URL(config.TRIGGERS_URL);
  // The triggers service's /hooks, beside its /graphql (under the same path prefix, if any).
  const prefix = target.pathname.replace(/\/graphql\/?$/, '').replace(/\/+$/, '');
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  app.post('/hooks/:id', (req, res) => {
    const address = addressOf(req);
    const limited = rate.take(undefined, address);
    if (limited) return void res.status(429).set('retry-after', String(limited.extensions.retryAfterSeconds)).json({ error: limited.message });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > config.MAX_REQUEST_BYTES) return void res.status(413).json({ error: `the body is larger than the gateway allows (${config.MAX_REQUEST_BYTES} bytes, MAX_REQUEST_BYTES)` });
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    if (address) headers['x-forwarded-for'] = address;
    const upstream = send(
      { protocol: target.protocol, hostname: target.hostname, port: target.port, method: 'POST', path: `${prefix}/hooks/${encodeURIComponent(String(req.params.id))}`, headers, timeout: 30_000 },
      (answer) => {
        res.status(answer.statusCode ?? 502);
        for (const h of ['content-type', 'retry-after']) if (answer.headers[h]) res.set(h, String(answer.headers[h]));
        answer.pipe(res);
      },
    );
    upstream.on('timeout', () => upstream.destroy(new Error('the triggers service did not answer in 30 s')));
    upstream.on('error', (err) => {
      if (!res.headersSent) res.status(502).json({ error: `the triggers service cannot take the delivery now (${err.message}); the sender should retry` });
      else res.destroy();
    });
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > config.MAX_REQUEST_BYTES && !tooLarge) {
        tooLarge = true;
        req.unpipe(upstream);
        upstream.destroy();
        // The answer first; the connection is closed once it is sent (the rest of the body is not read).
        if (!res.headersSent) res.status(413).set('connection', 'close').json({ error: `the body is larger than the gateway allows (${config.MAX_REQUEST_BYTES} bytes, MAX_REQUEST_BYTES)` });
        res.on('finish', () => req.destroy());
      }
    });
    // A sender that goes away mid-request: the forwarded request goes too.
    req.on('aborted', () => upstream.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
}
