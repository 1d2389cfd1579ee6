// Development secrets for `npm start` and `npm run token`: generated once per checkout and kept in
// .pipewright/dev-secrets.json (git-ignored), so tokens stay valid across restarts.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const home = process.env.PIPEWRIGHT_HOME ?? join(root, '.pipewright');
/** The development OpenID provider of `npm start`: its signing key (jwks.json), users and client secrets. */
export const oidcHome = join(home, 'oidc');
/** The development users, their passwords and the provider's clients, written by the provider under `npm start`. */
export const devUsersFile = join(home, 'dev-users.json');

export function devSecrets() {
  const file = join(home, 'dev-secrets.json');
  if (!existsSync(file)) {
    mkdirSync(home, { recursive: true });
    const secrets = { JWT_SECRET: randomBytes(32).toString('base64url'), INTERNAL_SECRET: randomBytes(32).toString('base64url') };
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  const secrets = JSON.parse(readFileSync(file, 'utf8'));
  if (!secrets.SECRETS_KEYS) {
    // The key that seals stored credentials (environments service); kept with the other dev secrets.
    secrets.SECRETS_KEYS = `dev1:${randomBytes(32).toString('base64')}`;
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  if (!secrets.TRIGGERS_SECRETS_KEYS) {
    // The key that seals the triggers' webhook secrets and tokens (triggers service).
    secrets.TRIGGERS_SECRETS_KEYS = `dev1:${randomBytes(32).toString('base64')}`;
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}
