import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { waitFor } from './wait';

const run = promisify(execFile);

/**
 * A host "outside" this machine, for builds whose network is sandboxed: a network namespace the
 * test creates, joined to the host by a veth pair on an address of 198.18.0.0/15 (the benchmarking
 * range: neither private nor this host's, so a build with BUILD_NETWORK=egress may reach it).
 * `forward(port)` makes a port of a server the test runs on this host (listening on 0.0.0.0 or on
 * `hostAddress`) reachable at the namespace's address, as if that server ran out there.
 */
export interface OutsideHost {
  /** The namespace's own address. */
  address: string;
  /** This host's address on the link to it. */
  hostAddress: string;
  forward(port: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startOutsideHost(): Promise<OutsideHost> {
  const id = randomBytes(3).toString('hex');
  const ns = `pwt-${id}`;
  const hostIf = `pwt${id}h`;
  const nsIf = `pwt${id}n`;
  const n = randomBytes(2).readUInt16BE(0) & 0x3fff;
  const [a, b] = [18 + ((n * 4) >> 16), ((n * 4) >> 8) & 255];
  const c = (n * 4) & 255;
  const hostAddress = `198.${a}.${b}.${c + 1}`;
  const address = `198.${a}.${b}.${c + 2}`;
  const children: ChildProcess[] = [];
  const ip = (...args: string[]) => run('ip', args);
  const stop = async () => {
    for (const child of children) child.kill('SIGKILL');
    await ip('netns', 'delete', ns).catch(() => undefined);
  };
  try {
    await ip('netns', 'add', ns);
    await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    await ip('link', 'set', nsIf, 'netns', ns);
    await ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
    await ip('link', 'set', hostIf, 'up');
    await ip('-n', ns, 'addr', 'add', `${address}/30`, 'dev', nsIf);
    await ip('-n', ns, 'link', 'set', nsIf, 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', ns, 'route', 'add', 'default', 'via', hostAddress);
  } catch (err) {
    await stop();
    throw new Error(`cannot create the outside host's network namespace (root, ip): ${(err as Error).message}`);
  }
  return {
    address,
    hostAddress,
    forward: async (port) => {
      const child = spawn('ip', ['netns', 'exec', ns, 'socat', `TCP-LISTEN:${port},bind=${address},fork,reuseaddr`, `TCP:${hostAddress}:${port}`], { stdio: 'ignore' });
      children.push(child);
      await waitFor(`socat in ${ns} to listen on ${address}:${port}`, async () => {
        const { stdout } = await run('ip', ['netns', 'exec', ns, 'ss', '-ltn']).catch(() => ({ stdout: '' }));
        return stdout.includes(`${address}:${port}`);
      }, 10_000);
      return `http://${address}:${port}`;
    },
    stop,
  };
}
