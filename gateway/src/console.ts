import express, { type Express } from 'express';
import { existsSync } from 'node:fs';
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
  app.get('/console-config.json', (_req, res) => void res.set('cache-control', 'no-store').json(settings));
  const index = join(dir, 'index.html');
  app.use('/assets', express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', fallthrough: false }));
  app.use(express.static(dir, { index: false, maxAge: '1h' }));
  app.get(/^\/(?!graphql|health|metrics|hooks\/).*/, (req, res) => {
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send(`The console is not built (no ${index}). Build it with \`npm run build -w console\`, or use the API at /graphql.\n`);
      return;
    }
    res.set('cache-control', 'no-cache').sendFile(index);
  });
}
