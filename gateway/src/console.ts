import express, { type Express, type Response } from 'express';
import { join, resolve } from 'node:path';
import type { GatewayConfig } from './config';

/** What the console needs to know before it can sign anyone in (GET /console-config.json). */
export interface ConsoleSettings {
  /** `oidc`: sign in at the provider (code + PKCE); `token`: paste a token (development without a provider). */
  auth: 'oidc' | 'token';
  issuer?: string;
  clientId?: string;
  scope?: string;
  graphqlPath: string;
}

export function consoleSettings(config: GatewayConfig): ConsoleSettings {
  const issuer = config.CONSOLE_OIDC_ISSUER ?? config.OIDC_ISSUER;
  return issuer
    ? { auth: 'oidc', issuer, clientId: config.CONSOLE_OIDC_CLIENT_ID, scope: config.CONSOLE_OIDC_SCOPE, graphqlPath: '/graphql' }
    : { auth: 'token', graphqlPath: '/graphql' };
}

/** The built console (console/dist) unless CONSOLE_DIR says otherwise. */
export const defaultConsoleDir = () => resolve(__dirname, '..', '..', 'console', 'dist');

/**
 * Serves the built console at `/`, on the same origin as `/graphql`: hashed assets with a long
 * cache, and `index.html` (never cached) for every other GET that is not an API path, so the
 * console's history-API routes (`/pipelines/…`, `/auth/callback`) load it. Without a built
 * console, `/` says how to build one.
 */
export function mountConsole(app: Express, config: GatewayConfig) {
  const dir = config.CONSOLE_DIR ?? defaultConsoleDir();
  const settings = consoleSettings(config);
  const csp = contentSecurityPolicy(settings);
  app.get('/console-config.json', (_req, res) => void res.set('cache-control', 'no-store').json(settings));
  const index = join(dir, 'index.html');
  const sendIndex = (res: Response) =>
    // Never cached (it names the hashed assets of the current build); framed only by itself (silent
    // renewal), so no other site can overlay an Approve button.
    res
      .set({ 'cache-control': 'no-cache', 'content-security-policy': csp, 'x-frame-options': 'SAMEORIGIN', 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin' })
      .sendFile(index, (err) => {
        if (!err || res.headersSent) return;
        res.status(503).type('text/plain').send(`The console is not built (no ${index}). Build it with \`npm run build -w console\`, or use the API at /graphql.\n`);
      });
  app.get('/index.html', (_req, res) => sendIndex(res));
  app.use('/assets', express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', fallthrough: false }));
  app.use(express.static(dir, { index: false, maxAge: '1h' }));
  app.get(/^\/(?!graphql|health|metrics|hooks\/).*/, (_req, res) => sendIndex(res));
}

/**
 * Scripts, styles and workers of the console's own origin only (styles inline too: the graph
 * library positions nodes with them); requests to the gateway (HTTP and, as 'self' covers ws: of the
 * same host, WebSocket) and to the OpenID provider (discovery and token endpoint).
 */
export function contentSecurityPolicy(settings: ConsoleSettings): string {
  const provider = settings.issuer ? new URL(settings.issuer).origin : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "worker-src 'self' blob:",
    `connect-src 'self' ${provider}`.trim(),
    // A silent renewal (no refresh token) loads the provider, then the console's callback, in a hidden frame.
    `frame-src 'self' ${provider}`.trim(),
    "frame-ancestors 'self'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}
