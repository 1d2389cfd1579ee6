import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './wait';

export const REPO_ROOT = join(__dirname, '..', '..', '..');

/** A port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
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
