#!/usr/bin/env node
// Prints an HS256 token for the gateway: npm run token -- --sub alice --roles ADMIN[,DEVELOPER] [--name "Alice"] [--ttl 3600]
// The secret is JWT_SECRET if set, else the development secret `npm start` uses.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { devSecrets } from './dev-secrets.mjs';

const ROLES = ['VIEWER', 'DEVELOPER', 'ADMIN', 'APPROVAL_ADMIN'];
const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: 'developer' },
    name: { type: 'string' },
    roles: { type: 'string', multiple: true, default: ['ADMIN'] },
    ttl: { type: 'string', default: String(12 * 3600) },
  },
});
const roles = values.roles.flatMap((r) => r.split(',')).map((r) => r.trim().toUpperCase()).filter(Boolean);
const unknown = roles.filter((r) => !ROLES.includes(r));
if (unknown.length) {
  console.error(`--roles: unknown role ${unknown.join(', ')}; use ${ROLES.join(', ')}`);
  process.exit(2);
}
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) {
  console.error(`--ttl must be a positive number of seconds (got "${values.ttl}")`);
  process.exit(2);
}
const secret = process.env.JWT_SECRET ?? devSecrets().JWT_SECRET;
let issueDevToken;
try {
  ({ issueDevToken } = createRequire(import.meta.url)('../libs/auth/dist/jwt.js'));
} catch {
  console.error('build first: npm run build');
  process.exit(1);
}
console.log(await issueDevToken({ sub: values.sub, name: values.name ?? values.sub, roles }, secret, ttl));
