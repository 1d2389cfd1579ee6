#!/usr/bin/env node
'use strict';
/**
 * The nats-server configuration Pipewright runs with (ARCHITECTURE section 4): one user per
 * service and one for the gateway, each allowed to publish and subscribe only where its work needs.
 * Every other subject is denied, and a connection without credentials is refused.
 *
 * Used by deploy/testenv/up, `npm start`, the tests' own servers (libs/testing) and, rendered with
 * `--env-passwords`, by docker-compose (deploy/nats/compose.conf) and the Helm chart's notes.
 *
 *   node deploy/nats/nats-config.cjs --dir DIR --port 14223 [--prefix pw] [--admin] [--store DIR]
 *       writes DIR/nats-server.conf and DIR/credentials.env (NATS_PASSWORD_<USER>=..., mode 600;
 *       generated once, then reused)
 *   node deploy/nats/nats-config.cjs --env-passwords [--prefix pw] --port 4222 --store /data
 *       prints a configuration whose passwords are read from the server's environment
 *       ($NATS_PASSWORD_PROJECTS, ...)
 *
 * With --prefix the subjects and stream names are that prefix's only; without it (a server shared
 * by test suites, each with its own prefix) the prefix token is a wildcard.
 */
const { randomBytes } = require('node:crypto');
const { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/**
 * What each principal does on the bus, in subjects after the prefix.
 * - events: the entity prefixes it publishes events on (its own only);
 * - commands: the command subjects it sends (through its outbox);
 * - live: core subjects it publishes;
 * - requests: the queries it asks;
 * - answers: the query subjects it answers (queue group; replies allowed);
 * - subscribes: core subscriptions;
 * - durables: per stream (EVENTS, COMMANDS), the durable consumers it reads through, each with the
 *   one subject it filters on: those only, so no service can read (and ack away) another's
 *   messages, nor widen its own consumer's filter (the create API names the filter in its subject);
 * - streams: `create`: it creates the two streams at boot if they are missing (MessageBus.ensureStreams;
 *   creating an existing stream with the same config is a no-op); `manage`: it also brings their
 *   config up to date. One principal manages, so no other can change a stream's limits or subjects.
 */
const PRINCIPALS = {
  projects: {
    events: ['evt.projects.>'],
    answers: ['rpc.projects.>'],
    requests: ['rpc.builds.project.usage', 'rpc.environments.project.usage', 'rpc.executions.project.usage', 'rpc.pipelines.project.usage', 'rpc.triggers.project.usage'],
    streams: 'manage',
  },
  environments: {
    events: ['evt.environments.>'],
    answers: ['rpc.environments.>'],
    requests: ['rpc.pipelines.references', 'rpc.projects.project.exists'],
    durables: { EVENTS: { 'environments-project-deleted': 'evt.projects.project.changed.v1' } },
    streams: 'create',
  },
  pipelines: {
    events: ['evt.pipelines.>'],
    answers: ['rpc.pipelines.>'],
    requests: ['rpc.environments.exists', 'rpc.projects.project.exists'],
    durables: { EVENTS: { 'pipelines-project-deleted': 'evt.projects.project.changed.v1' } },
    streams: 'create',
  },
  executions: {
    events: ['evt.executions.>'],
    commands: ['cmd.builds.>'],
    answers: ['rpc.executions.>'],
    requests: [
      'rpc.environments.deployment-target.resolve',
      'rpc.environments.source-repository.resolve',
      'rpc.environments.image-registry.for-host',
      'rpc.environments.secret.values',
      'rpc.pipelines.pipeline.snapshot',
      'rpc.projects.project.exists',
    ],
    durables: {
      EVENTS: { 'executions-build-finished': 'evt.builds.build.finished.v1', 'executions-project-deleted': 'evt.projects.project.changed.v1' },
      COMMANDS: { 'executions-run-start': 'cmd.executions.run.start.v1' },
    },
    streams: 'create',
  },
  builds: {
    events: ['evt.builds.>'],
    live: ['live.builds.>'],
    answers: ['rpc.builds.>'],
    requests: [
      'rpc.environments.source-repository.resolve',
      'rpc.environments.build-tool.resolve',
      'rpc.environments.image-registry.resolve',
      'rpc.environments.image-registry.for-host',
      'rpc.environments.chart-repository.resolve',
      'rpc.environments.secret.values',
      'rpc.projects.project.exists',
    ],
    durables: { COMMANDS: { 'builds-start': 'cmd.builds.build.start.v1', 'builds-cancel': 'cmd.builds.build.cancel.v1' } },
    streams: 'create',
  },
  // Triggers start runs through executions' command, follow runs' ends (PIPELINE triggers) and
  // asks for an image registry's address and credentials (IMAGE_PUSH: its host, polling its tags).
  triggers: {
    events: ['evt.triggers.>'],
    commands: ['cmd.executions.run.start.v1'],
    answers: ['rpc.triggers.>'],
    requests: ['rpc.pipelines.pipeline.snapshot', 'rpc.environments.exists', 'rpc.environments.image-registry.resolve', 'rpc.projects.project.exists'],
    durables: {
      EVENTS: {
        'triggers-run-ended': 'evt.executions.run.status-changed.v1',
        'triggers-run-refused': 'evt.executions.run.start-refused.v1',
        'triggers-pipeline-changed': 'evt.pipelines.pipeline.changed.v1',
        'triggers-project-deleted': 'evt.projects.project.changed.v1',
      },
    },
    streams: 'create',
  },
  // The gateway reads events and live logs and asks projects who a caller is; nothing else.
  gateway: {
    subscribes: ['evt.executions.run.status-changed.v1', 'evt.executions.stage.status-changed.v1', 'evt.projects.>', 'live.builds.>'],
    requests: ['rpc.projects.api-token.verify', 'rpc.projects.memberships'],
  },
};

/** The users a configuration holds: the principals, and with `admin` the tests' own user. */
const ADMIN_USER = 'pw-admin';

/** A stream's name under `prefix` (as libs/messaging names it); without one, any stream (a wildcard is a whole token). */
function streamName(prefix, kind) {
  return prefix ? `${prefix.toUpperCase().replace(/-/g, '_')}_${kind}` : '*';
}

/** A principal's publish and subscribe allow-lists under `prefix` (undefined: any prefix). */
function permissionsFor(name, prefix) {
  const p = PRINCIPALS[name];
  if (!p) throw new Error(`unknown NATS principal "${name}" (known: ${Object.keys(PRINCIPALS).join(', ')})`);
  if (prefix !== undefined && !/^[A-Za-z0-9_-]+$/.test(prefix)) throw new Error(`prefix must be letters, digits, "_" or "-" (got "${prefix}")`);
  const at = (s) => `${prefix ?? '*'}.${s}`;
  const publish = [...(p.events ?? []), ...(p.commands ?? []), ...(p.live ?? []), ...(p.requests ?? [])].map(at);
  const subscribe = [`_INBOX_${name}.>`, ...(p.answers ?? []).map(at), ...(p.subscribes ?? []).map(at)];
  if (p.streams) {
    publish.push('$JS.API.INFO');
    for (const stream of new Set(['EVENTS', 'COMMANDS'].map((k) => streamName(prefix, k)))) {
      publish.push(`$JS.API.STREAM.INFO.${stream}`, `$JS.API.STREAM.CREATE.${stream}`);
      if (p.streams === 'manage') publish.push(`$JS.API.STREAM.UPDATE.${stream}`);
    }
  }
  for (const [kind, durables] of Object.entries(p.durables ?? {})) {
    const stream = streamName(prefix, kind);
    for (const [durable, filter] of Object.entries(durables)) {
      publish.push(
        `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
        // Create and update only through the API that names the filter subject after the consumer
        // (nats-server 2.9+; the server refuses a config whose filter is not that subject), so the
        // filter is this one; not the forms without it (CREATE.<stream>.<name>, DURABLE.CREATE).
        `$JS.API.CONSUMER.CREATE.${stream}.${durable}.${at(filter)}`,
        `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
        `$JS.ACK.${stream}.${durable}.>`,
      );
    }
  }
  return { publish, subscribe, allowResponses: Boolean(p.answers?.length) };
}

const quote = (s) => JSON.stringify(s);

/**
 * The configuration text. `passwords` maps each user to its password; with `envPasswords` each is
 * read from the server's environment instead (NATS_PASSWORD_<USER>).
 */
function natsServerConfig({ port, host = '127.0.0.1', storeDir, prefix, passwords = {}, envPasswords = false, admin = false, monitorPort, serverName = 'pipewright', command }) {
  const users = [...Object.keys(PRINCIPALS), ...(admin ? [ADMIN_USER] : [])];
  const password = (user) => {
    if (envPasswords) return `$${envName(user)}`;
    const value = passwords[user];
    if (!value) throw new Error(`no password for NATS user ${user}`);
    return quote(value);
  };
  const lines = [
    '# Generated by deploy/nats/nats-config.cjs: do not edit, regenerate it.',
    ...(command ? [`#   ${command}`] : []),
    `# Subjects and streams: ${prefix ? `the prefix ${prefix} only (NATS_PREFIX=${prefix})` : 'any prefix'}.`,
    `server_name: ${quote(serverName)}`,
    `listen: ${quote(`${host}:${port}`)}`,
    // Monitoring (healthz, for health checks) on loopback only: its pages describe every connection.
    ...(monitorPort ? [`http: ${quote(`127.0.0.1:${monitorPort}`)}`] : []),
    `jetstream { store_dir: ${quote(storeDir)} }`,
    'authorization {',
    '  users: [',
  ];
  for (const user of users) {
    if (user === ADMIN_USER) {
      lines.push(`    { user: ${quote(user)}, password: ${password(user)} }`);
      continue;
    }
    const perm = permissionsFor(user, prefix);
    lines.push(
      `    { user: ${quote(user)}, password: ${password(user)}, permissions: {`,
      `        publish: { allow: [${perm.publish.map(quote).join(', ')}] }`,
      `        subscribe: { allow: [${perm.subscribe.map(quote).join(', ')}] }`,
      ...(perm.allowResponses ? ['        allow_responses: true'] : []),
      '    } }',
    );
  }
  lines.push('  ]', '}', '');
  return lines.join('\n');
}

/** The environment variable that carries a user's password (NATS_PASSWORD_EXECUTIONS, NATS_PASSWORD_PW_ADMIN). */
function envName(user) {
  return `NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;
}

/** Passwords for every user (and the admin), new ones generated for any missing. */
function ensurePasswords(existing = {}, admin = false) {
  const out = {};
  for (const user of [...Object.keys(PRINCIPALS), ...(admin ? [ADMIN_USER] : [])]) out[user] = existing[user] || randomBytes(18).toString('base64url');
  return out;
}

function readCredentials(file) {
  const out = {};
  if (!existsSync(file)) return out;
  const byEnv = Object.fromEntries([...Object.keys(PRINCIPALS), ADMIN_USER].map((u) => [envName(u), u]));
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.+)$/.exec(line.trim());
    if (m && byEnv[m[1]]) out[byEnv[m[1]]] = m[2];
  }
  return out;
}

/** Writes DIR/nats-server.conf and DIR/credentials.env (kept across runs); answers both paths and the passwords. */
function writeServerFiles({ dir, port, storeDir = join(dir, 'jetstream'), prefix, admin = false, monitorPort, serverName }) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const credentials = join(dir, 'credentials.env');
  const passwords = ensurePasswords(readCredentials(credentials), admin);
  writeFileSync(credentials, Object.entries(passwords).map(([u, p]) => `${envName(u)}=${p}\n`).join(''), { mode: 0o600 });
  chmodSync(credentials, 0o600);
  const config = join(dir, 'nats-server.conf');
  writeFileSync(config, natsServerConfig({ port, storeDir, prefix, passwords, admin, monitorPort, serverName }), { mode: 0o600 });
  chmodSync(config, 0o600);
  return { config, credentials, passwords };
}

module.exports = { PRINCIPALS, ADMIN_USER, permissionsFor, natsServerConfig, envName, ensurePasswords, readCredentials, writeServerFiles };

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const flag = (name) => args.includes(`--${name}`);
  const fail = (msg) => {
    process.stderr.write(`nats-config: ${msg}\n`);
    process.exit(2);
  };
  const port = Number(opt('port') ?? 4222);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port must be a port number (got ${opt('port')})`);
  const monitorPort = opt('monitor-port') ? Number(opt('monitor-port')) : undefined;
  try {
    if (flag('env-passwords')) {
      const command = `node deploy/nats/nats-config.cjs ${args.join(' ')}`;
      process.stdout.write(natsServerConfig({ port, host: opt('host') ?? '0.0.0.0', storeDir: opt('store') ?? '/data', prefix: opt('prefix'), envPasswords: true, monitorPort, command }));
    } else {
      const dir = opt('dir');
      if (!dir) fail('--dir is required (where nats-server.conf and credentials.env go), or --env-passwords');
      const out = writeServerFiles({ dir, port, storeDir: opt('store'), prefix: opt('prefix'), admin: flag('admin'), monitorPort, serverName: opt('name') });
      process.stdout.write(`${out.config}\n${out.credentials}\n`);
    }
  } catch (err) {
    fail(err.message);
  }
}
