import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './wait';

export const REPO_ROOT = join(__dirname, '..', '..', '..');

/**
 * A port that is free right now and that this process has not handed out before. Two services given
 * the same port raced for it once (the loser's readiness check was answered by the winner, and the
 * gateway composed one subgraph twice), so ports come from a range below the kernel's ephemeral one
 * (32768+, where listen(0) and outgoing connections take theirs), a slice of it per jest worker, in
 * turn, each checked by binding it.
 */
const PORT_RANGE_START = 20_000;
const PORTS_PER_WORKER = 1_500;
const WORKER_SLICES = 8;
// Started per process, so two jest processes with the same worker id (a second run) start apart.
let portCursor = (process.pid * 7919) % PORTS_PER_WORKER;

export async function freePort(): Promise<number> {
  const worker = (Number(process.env.JEST_WORKER_ID ?? '1') - 1) % WORKER_SLICES;
  const base = PORT_RANGE_START + worker * PORTS_PER_WORKER;
  for (let tries = 0; tries < PORTS_PER_WORKER; tries++) {
    const port = base + (portCursor++ % PORTS_PER_WORKER);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${base}..${base + PORTS_PER_WORKER - 1}`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export interface RunningProcess {
  child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the exit code (or signal name) once it ends. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

/** Runs a built entry point (`services/<name>/dist/main.js`, `gateway/dist/main.js`) as a child process. */
export function startProcess(relativeScript: string, env: Record<string, string | undefined>): RunningProcess {
  const script = join(REPO_ROOT, relativeScript);
  if (!existsSync(script)) throw new Error(`${relativeScript} is missing: run \`npm run build\` first (npm test does)`);
  // The heap's ceiling, as deploy/docker/entrypoint.sh and scripts/start.mjs set it.
  const heapMb = env.PIPEWRIGHT_HEAP_MB ?? '384';
  const child = spawn(process.execPath, ['--enable-source-maps', `--max-old-space-size=${heapMb}`, script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until `GET url` answers 200, failing at once with the process's output if it exits first. */
export async function waitForHttpOk(url: string, proc?: RunningProcess, timeoutMs = 60_000): Promise<void> {
  let settled = false;
  const exitedEarly = new Promise<never>((_, reject) => {
    void proc?.exited.then((code) => {
      if (!settled) reject(new Error(`${url} did not answer: the process exited (${code}) before it was ready:\n${proc.output().slice(-3000)}`));
    });
  });
  exitedEarly.catch(() => undefined);
  const ready = waitFor(`${url} to answer 200`, async () => settled || ((await fetch(url).catch(() => null))?.ok ?? false), timeoutMs).catch((err: Error) => {
    if (!proc) throw err;
    throw new Error(`${err.message}\n--- process output ---\n${proc.output().slice(-3000)}`);
  });
  try {
    await Promise.race([ready, exitedEarly]);
  } finally {
    settled = true;
  }
}
