import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** CPU and memory limits for one build's processes, through cgroups where the machine allows it. */
export interface BuildLimits {
  /** How the limits are applied: `cgroup v2`, `cgroup v1`, or null when this machine lets us apply none. */
  mechanism: 'cgroup v2' | 'cgroup v1' | null;
  /** The command and arguments to spawn so that it (and what it starts) runs under the limits. */
  wrap(command: string, args: string[]): { command: string; args: string[]; env: Record<string, string> };
  /** Whether the memory limit was hit; with a command killed by SIGKILL (exit 137) that means it ran out of memory. */
  outOfMemory(): Promise<boolean>;
  /** Removes the cgroups (once their processes have ended). */
  dispose(): Promise<void>;
}

const V2_ROOT = '/sys/fs/cgroup';
const V1_ROOT = '/sys/fs/cgroup';

const cgroupDirs = (buildId: string) => [join(V2_ROOT, 'pipewright', buildId), join(V1_ROOT, 'memory', 'pipewright', buildId), join(V1_ROOT, 'cpu', 'pipewright', buildId)];
const PERIOD_US = 100_000;

/**
 * Makes cgroups for a build: memory limited to `memoryMb` (no swap beyond it) and CPU to `cpu`
 * cores. Needs a writable cgroup hierarchy (root, or a delegated one); elsewhere the build runs
 * without limits and its log and outputs say so.
 */
export async function createLimits(buildId: string, size: { cpu: number; memoryMb: number }): Promise<BuildLimits> {
  const memoryBytes = Math.round(size.memoryMb * 1024 * 1024);
  const quota = Math.max(1000, Math.round(size.cpu * PERIOD_US));
  const dirs: string[] = [];
  const none: BuildLimits = { mechanism: null, wrap: (command, args) => ({ command, args, env: {} }), outOfMemory: async () => false, dispose: async () => undefined };
  try {
    const v2 = V2_ROOT;
    if (existsSync(join(v2, 'cgroup.controllers')) && /\bmemory\b/.test(await readFile(join(v2, 'cgroup.controllers'), 'utf8'))) {
      const parent = join(v2, 'pipewright');
      await mkdir(parent, { recursive: true });
      await writeFile(join(v2, 'cgroup.subtree_control'), '+memory +cpu').catch(() => undefined);
      await writeFile(join(parent, 'cgroup.subtree_control'), '+memory +cpu');
      const dir = join(parent, buildId);
      await mkdir(dir, { recursive: true });
      dirs.push(dir);
      await writeFile(join(dir, 'memory.max'), String(memoryBytes));
      await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => undefined);
      await writeFile(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
      return limits('cgroup v2', dirs, async () => /oom_kill [1-9]/.test(await readFile(join(dir, 'memory.events'), 'utf8').catch(() => '')));
    }
    const v1 = V1_ROOT;
    if (existsSync(join(v1, 'memory', 'memory.limit_in_bytes')) && existsSync(join(v1, 'cpu', 'cpu.cfs_quota_us'))) {
      const memory = join(v1, 'memory', 'pipewright', buildId);
      const cpu = join(v1, 'cpu', 'pipewright', buildId);
      await mkdir(memory, { recursive: true });
      dirs.push(memory);
      await mkdir(cpu, { recursive: true });
      dirs.push(cpu);
      await writeFile(join(memory, 'memory.limit_in_bytes'), String(memoryBytes));
      await writeFile(join(memory, 'memory.memsw.limit_in_bytes'), String(memoryBytes)).catch(() => undefined);
      await writeFile(join(cpu, 'cpu.cfs_period_us'), String(PERIOD_US));
      await writeFile(join(cpu, 'cpu.cfs_quota_us'), String(quota));
      // The OOM killer's count (oom_control), or the limit's fail counters (memory, memory+swap)
      // for kernels that report no oom_kill line.
      const read = (file: string) => readFile(join(memory, file), 'utf8').catch(() => '');
      return limits('cgroup v1', dirs, async () => {
        if (/^oom_kill [1-9]/m.test(await read('memory.oom_control'))) return true;
        return Number(await read('memory.failcnt')) > 0 || Number(await read('memory.memsw.failcnt')) > 0;
      });
    }
  } catch {
    await removeAll(dirs);
  }
  return none;
}

function limits(mechanism: 'cgroup v2' | 'cgroup v1', dirs: string[], outOfMemory: () => Promise<boolean>): BuildLimits {
  return {
    mechanism,
    // The shell joins the cgroups, then becomes the command (exec): the command and its children run inside.
    wrap: (command, args) => ({
      command: '/bin/sh',
      args: ['-c', 'for d in $PW_CGROUPS; do echo $$ > "$d/cgroup.procs" || exit 125; done; exec "$@"', 'pipewright-limits', command, ...args],
      env: { PW_CGROUPS: dirs.join(' ') },
    }),
    outOfMemory,
    dispose: () => removeAll(dirs),
  };
}

async function removeAll(dirs: string[]) {
  for (const d of dirs.reverse()) await rmdir(d).catch(() => undefined);
}

/** After a crash: kills whatever still runs in a build's cgroups and removes them. */
export async function releaseLimits(buildId: string): Promise<void> {
  const dirs = cgroupDirs(buildId).filter((d) => existsSync(d));
  for (const d of dirs) {
    const pids = (await readFile(join(d, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (let attempt = 0; attempt < 20 && dirs.some((d) => existsSync(d)); attempt++) {
    await removeAll(dirs.filter((d) => existsSync(d)));
    if (dirs.some((d) => existsSync(d))) await new Promise((r) => setTimeout(r, 50)); // killed processes take a moment to leave
  }
}
