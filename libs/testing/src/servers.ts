import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { connectTestNats, natsConfig, type NatsAccess } from './nats';
import { freePort } from './processes';
import { waitFor } from './wait';

/**
 * A PostgreSQL or NATS server of a suite's own, for tests that restart or stop it: the shared
 * ones of the test environment serve suites running in parallel.
 */
export interface OwnServer {
  url: string;
  /** Stops the server and starts it again on the same port with the same data; `whileDown` runs in between. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
  /** Its log so far (for a failing test's message). */
  log(): string;
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || stdout || err.message}`)) : resolve(stdout),
    ),
  );
}

/** The newest PostgreSQL server binaries installed (Debian keeps them under /usr/lib/postgresql/<version>/bin). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  if (!versions.length) throw new Error(`no PostgreSQL server binaries under ${root}/*/bin: install the postgresql package (deploy/testenv/up does)`);
  const newest = versions.sort((a, b) => Number(a) - Number(b) || a.localeCompare(b)).at(-1)!;
  return join(root, newest, 'bin');
}

/** The uid/gid of the `postgres` account: initdb refuses to run as root. */
async function postgresAccount(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]).catch(() => {
    throw new Error('running as root needs a `postgres` account to own the test cluster (initdb refuses root): install the postgresql package');
  });
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/**
 * Starts a PostgreSQL cluster of the suite's own (initdb into a temporary directory, trust auth,
 * 127.0.0.1 on a free port), as `postgres` when the tests run as root. `url` is its `postgres`
 * database as the superuser, usable as startPlatform's `databaseUrl`.
 */
export async function startPostgres(label = 'pg'): Promise<OwnServer> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), `pw-${label}-`));
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const asRoot = process.getuid?.() === 0;
  const account = asRoot ? await postgresAccount() : undefined;
  if (account) chownSync(dir, account.uid, account.gid);
  const as = (tool: string, args: string[]) => (account ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args));
  const port = await freePort();
  // fsync off: the data dies with the test; a restart is a clean shutdown, so nothing is lost by it.
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c max_connections=300 -c fsync=off -c synchronous_commit=off`;
  const start = () => as('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', options, 'start']);
  // fast: running transactions are rolled back and every connection is cut, as a real restart does.
  const halt = (mode: 'fast' | 'immediate') => as('pg_ctl', ['-D', data, '-w', '-t', '60', '-m', mode, 'stop']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const answers = async () => {
    const c = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  try {
    await as('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
    await start();
    await waitFor(`PostgreSQL on 127.0.0.1:${port} to answer`, answers, 30_000);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  // stop() waits for a restart still under way (a test that failed in the middle of one), so no server outlives it.
  let restarting: Promise<void> = Promise.resolve();
  return {
    url,
    log,
    restart: (whileDown) =>
      (restarting = (async () => {
        await halt('fast');
        if (whileDown) await whileDown();
        await start();
        await waitFor(`PostgreSQL on 127.0.0.1:${port} to answer after its restart`, answers, 30_000);
      })()),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await restarting.catch(() => undefined);
      await halt('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** nats-server on PATH, or where Debian's package puts it. */
function natsServerBin(): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin'];
  for (const d of dirs) if (d && existsSync(join(d, 'nats-server'))) return join(d, 'nats-server');
  throw new Error('nats-server is not installed: install the nats-server package (deploy/testenv/up does)');
}

/**
 * Starts a nats-server of the suite's own with JetStream, configured as deploy/testenv/up
 * configures the shared one (127.0.0.1, the generated users and permissions of
 * deploy/nats/nats-config.cjs, the admin among them), its store in a temporary directory so
 * streams survive `restart()`. `access` is what startPlatform({ nats }) takes. With `prefix` the
 * users are limited to that prefix, as under `npm start` and in production.
 */
export async function startNats(label = 'nats', options: { prefix?: string } = {}): Promise<OwnServer & { access: NatsAccess }> {
  const bin = natsServerBin();
  const dir = mkdtempSync(join(tmpdir(), `pw-${label}-`));
  const store = join(dir, 'jetstream');
  mkdirSync(store);
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const { config, passwords } = natsConfig.writeServerFiles({ dir, port, storeDir: store, admin: true, prefix: options.prefix, serverName: `pipewright-${label}` });
  const access: NatsAccess = { url, passwords };
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let out = '';
  const start = async () => {
    const c = spawn(bin, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (out += d));
    child = c;
    exited = new Promise((resolve) => c.on('exit', resolve));
    const ready = async () => {
      if (c.exitCode !== null) throw new Error(`nats-server exited (${c.exitCode}):\n${out.slice(-2000)}`);
      const nc = await connectTestNats(`${label}-ready`, { access, reconnect: false, timeout: 1000 });
      try {
        // JetStream answers only once it has recovered its streams from the store.
        await (await nc.jetstreamManager()).getAccountInfo();
        return true;
      } finally {
        await nc.close();
      }
    };
    await waitFor(`nats-server with JetStream on ${url}`, ready, 30_000);
  };
  const halt = async (signal: NodeJS.Signals) => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    await start();
  } catch (err) {
    await halt('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  let restarting: Promise<void> = Promise.resolve();
  return {
    url,
    access,
    log: () => out,
    restart: (whileDown) =>
      (restarting = (async () => {
        // SIGTERM: nats-server flushes its store and closes every client connection.
        await halt('SIGTERM');
        if (whileDown) await whileDown();
        await start();
      })()),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await restarting.catch(() => undefined);
      await halt('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
