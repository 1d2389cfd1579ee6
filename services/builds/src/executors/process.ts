import { spawn } from 'node:child_process';

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Killed at the time limit. */
  timedOut: boolean;
  /** Killed because the signal aborted. */
  aborted: boolean;
}

/**
 * Runs a program to its end without a shell. `onLine` receives each output line as it is written
 * (stdout and stderr); the time limit and the abort signal kill the whole process group.
 */
export function runProcess(
  command: string,
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    signal?: AbortSignal;
    timeoutMs?: number;
    onLine?: (line: string) => void;
    input?: string;
    keepOutput?: boolean;
    /** Called with the process group id once it runs (to kill it after a crash of this service). */
    onSpawn?: (pgid: number) => void;
  } = {},
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    const keep = options.keepOutput ?? true;
    const partial = { out: '', err: '' };
    // Decoded as streams: a character split between two chunks stays whole.
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    if (child.pid) options.onSpawn?.(child.pid);
    const feed = (which: 'out' | 'err', text: string) => {
      if (keep) {
        if (which === 'out') stdout += text;
        else stderr += text;
      } else if (which === 'err') stderr = (stderr + text).slice(-8192);
      if (!options.onLine) return;
      const lines = (partial[which] + text).split('\n');
      partial[which] = lines.pop()!;
      for (const l of lines) options.onLine(l.replace(/\r$/, ''));
    };
    child.stdout!.on('data', (d: string) => feed('out', d));
    child.stderr!.on('data', (d: string) => feed('err', d));
    if (options.input !== undefined) child.stdin!.end(options.input);
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = options.timeoutMs ? setTimeout(() => ((timedOut = true), kill()), options.timeoutMs) : undefined;
    const onAbort = () => ((aborted = true), kill());
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const done = (code: number) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      for (const which of ['out', 'err'] as const) if (partial[which] && options.onLine) options.onLine(partial[which]);
      resolve({ code, stdout, stderr, timedOut, aborted });
    };
    child.on('error', (err) => {
      stderr += `cannot run ${command}: ${err.message}`;
      done(127);
    });
    child.on('close', (code, signal) => done(code ?? (signal ? 128 + 9 : 1)));
  });
}
