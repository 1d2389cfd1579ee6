import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { runProcess } from './process';

/**
 * The network a hosted build's own code runs in (its build command and every RUN of its
 * Dockerfile): a network namespace of its own, never the host's. Checkout, pulls and the push stay
 * in the builds service, outside it.
 * - `none`: only a loopback interface of its own (down): no network at all.
 * - `egress`: a veth pair to the host, NAT to the outside network. Every packet from the build to
 *   the host itself is dropped (so no address the platform's services listen on, loopback or not,
 *   is reachable), and so is anything routed to a private, link-local, shared or loopback range.
 */
export type BuildNetwork = 'none' | 'egress';

export interface Sandbox {
  /** The command run inside the build's network namespace. */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** What the build log says about it. */
  describe: string;
  dispose(): Promise<void>;
}

/** Destinations a build may not reach through the host even with egress. */
const BLOCKED_DESTINATIONS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '0.0.0.0/8', '224.0.0.0/4'];

/** The /30 a build's veth pair uses, from 10.213.0.0/16 by its id (the host side .1, the build's .2). */
function subnetFor(buildId: string): { host: string; build: string; cidr: string } {
  const n = createHash('sha256').update(buildId).digest().readUInt16BE(0) & 0x3fff; // 16384 subnets of 4
  const base = n * 4;
  const [a, b] = [(base >> 8) & 255, base & 255];
  return { host: `10.213.${a}.${b + 1}`, build: `10.213.${a}.${b + 2}`, cidr: `10.213.${a}.${b}/30` };
}

async function sh(command: string, args: string[]): Promise<{ code: number; out: string }> {
  const res = await runProcess(command, args, { timeoutMs: 30_000, keepOutput: true });
  return { code: res.code ?? -1, out: `${res.stdout}${res.stderr}`.trim() };
}

async function must(command: string, args: string[]): Promise<void> {
  const res = await sh(command, args);
  if (res.code !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${res.out || `exit ${res.code}`}`);
}

export async function createSandbox(buildId: string, network: BuildNetwork, dns?: string): Promise<Sandbox> {
  if (network === 'none') {
    return {
      wrap: (command, args) => ({ command: 'unshare', args: ['--net', '--', command, ...args] }),
      describe: 'network: none (BUILD_NETWORK): the build command and Dockerfile run without any network',
      dispose: async () => undefined,
    };
  }
  const id = createHash('sha256').update(buildId).digest('hex').slice(0, 8);
  const ns = `pwb-${id}`;
  const hostIf = `pwb${id}h`;
  const buildIf = `pwb${id}n`;
  const net = subnetFor(buildId);
  const comment = ['-m', 'comment', '--comment', `pipewright build ${buildId}`];
  // The host's rules, each added in order and removed in reverse on dispose.
  const rules: string[][] = [
    // Nothing from the build reaches the host itself: not loopback, not any address it listens on.
    ['-I', 'INPUT', '-i', hostIf, ...comment, '-j', 'DROP'],
    ...BLOCKED_DESTINATIONS.map((d) => ['-I', 'FORWARD', '-i', hostIf, '-d', d, ...comment, '-j', 'DROP']),
    ['-A', 'FORWARD', '-i', hostIf, ...comment, '-j', 'ACCEPT'],
    ['-A', 'FORWARD', '-o', hostIf, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...comment, '-j', 'ACCEPT'],
  ];
  const nat = ['-t', 'nat', '-A', 'POSTROUTING', '-s', net.cidr, '!', '-o', hostIf, ...comment, '-j', 'MASQUERADE'];
  // A resolver the build may ask (BUILD_DNS), ahead of the drops: it may be on a private network.
  // Without it the build has the host's resolv.conf, which works only when that resolver is public.
  if (dns) for (const proto of ['udp', 'tcp']) rules.push(['-I', 'FORWARD', '-i', hostIf, '-d', dns, '-p', proto, '--dport', '53', ...comment, '-j', 'ACCEPT']);
  const added: string[][] = [];
  const dispose = async () => {
    for (const r of added.reverse()) await sh(r[0], r.slice(1).map((a) => (a === '-I' || a === '-A' ? '-D' : a)));
    added.length = 0;
    await sh('ip', ['netns', 'delete', ns]); // removes the veth pair with it
    await sh('ip', ['link', 'delete', hostIf]); // unless setup stopped before it moved there
    await rm(`/etc/netns/${ns}`, { recursive: true, force: true });
  };
  try {
    await sh('ip', ['netns', 'delete', ns]); // a leftover of a crash with the same id
    await must('ip', ['netns', 'add', ns]);
    await must('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', buildIf]);
    await must('ip', ['link', 'set', buildIf, 'netns', ns]);
    // IPv4 only: an IPv6 link-local address on the pair would reach the host around the rules below.
    await must('sysctl', ['-q', '-w', `net.ipv6.conf.${hostIf}.disable_ipv6=1`]);
    await must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    await must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
    await must('ip', ['addr', 'add', `${net.host}/30`, 'dev', hostIf]);
    await must('ip', ['link', 'set', hostIf, 'up']);
    await must('ip', ['-n', ns, 'addr', 'add', `${net.build}/30`, 'dev', buildIf]);
    await must('ip', ['-n', ns, 'link', 'set', buildIf, 'up']);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await must('ip', ['-n', ns, 'route', 'add', 'default', 'via', net.host]);
    await must('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    // `ip netns exec` shows /etc/netns/<ns>/resolv.conf as /etc/resolv.conf (buildah copies it into the build).
    if (dns) {
      await mkdir(`/etc/netns/${ns}`, { recursive: true });
      await writeFile(`/etc/netns/${ns}/resolv.conf`, `nameserver ${dns}\n`);
    }
    // -w: wait for the xtables lock (another build, or docker, may hold it).
    for (const r of [...rules.map((x) => ['iptables', '-w', ...x]), ['iptables', '-w', ...nat], ['ip6tables', '-w', '-I', 'INPUT', '-i', hostIf, ...comment, '-j', 'DROP'], ['ip6tables', '-w', '-I', 'FORWARD', '-i', hostIf, ...comment, '-j', 'DROP']]) {
      await must(r[0], r.slice(1));
      added.push(r);
    }
  } catch (err) {
    await dispose();
    throw new Error(`cannot set up the build's network namespace (BUILD_NETWORK=egress needs root, ip and iptables; BUILD_NETWORK=none needs only unshare): ${(err as Error).message}`);
  }
  return {
    wrap: (command, args) => ({ command: 'ip', args: ['netns', 'exec', ns, command, ...args] }),
    describe: `network: egress (BUILD_NETWORK, namespace ${ns}): the outside network only, not this host nor private addresses`,
    dispose,
  };
}

/**
 * The images a Dockerfile uses, read as Docker reads it: the `# escape=` directive, comment lines
 * dropped before lines are joined, `FROM` (build-stage names and `scratch` left out, ARG defaults
 * declared before the first FROM filled in), `COPY --from=` / `ADD --from=` and `RUN
 * --mount=...,from=` naming an image rather than a stage. They are pulled (and checked) outside the
 * sandbox before the build, which then only uses what is in the store.
 */
export function dockerfileBaseImages(text: string): string[] {
  const lines = text.split(/\r?\n/);
  // Parser directives: comments of the form `# key=value` at the very top only.
  let escape = '\\';
  for (const l of lines) {
    const directive = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(l);
    if (!directive) break;
    if (directive[1].toLowerCase() === 'escape' && (directive[2] === '`' || directive[2] === '\\')) escape = directive[2];
  }
  // Comment lines go first (also inside a continuation), then continuations are joined.
  const instructions: string[] = [];
  let current = '';
  for (const raw of lines) {
    if (/^\s*#/.test(raw)) continue;
    const trimmedEnd = raw.replace(/\s+$/, '');
    if (trimmedEnd.endsWith(escape)) {
      current += `${trimmedEnd.slice(0, -1)} `;
      continue;
    }
    instructions.push(current + raw);
    current = '';
  }
  if (current) instructions.push(current);

  const args: Record<string, string> = {};
  const stages = new Set<string>();
  const images: string[] = [];
  let seenFrom = false;
  const fill = (ref: string) => ref.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name: string) => args[name] ?? '');
  const use = (ref: string) => {
    const image = fill(ref.replace(/^["']|["']$/g, ''));
    if (image && image !== 'scratch' && !stages.has(image.toLowerCase()) && !/^\d+$/.test(image)) images.push(image);
  };
  for (const instruction of instructions) {
    const line = instruction.trim();
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?/i.exec(line);
    if (arg && !seenFrom) {
      args[arg[1]] = (arg[2] ?? '').replace(/^["']|["']$/g, '');
      continue;
    }
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      seenFrom = true;
      use(from[1]);
      if (from[2]) stages.add(from[2].toLowerCase());
      continue;
    }
    const copy = /^(?:COPY|ADD)\s+(?:--\S+\s+)*?--from=(\S+)/i.exec(line);
    if (copy) use(copy[1]);
    if (/^RUN\s/i.test(line)) for (const m of line.matchAll(/--mount=(\S+)/gi)) {
      const from = /(?:^|,)from=([^,\s]+)/i.exec(m[1]);
      if (from) use(from[1]);
    }
  }
  return [...new Set(images)];
}

/** After a crash: removes what a build's sandbox left (its namespace, and the host's rules for it). */
export async function releaseSandbox(buildId: string): Promise<void> {
  const id = createHash('sha256').update(buildId).digest('hex').slice(0, 8);
  for (const [tool, table] of [['iptables', 'filter'], ['iptables', 'nat'], ['ip6tables', 'filter']]) {
    const listed = await sh(tool, ['-w', '-t', table, '-S']);
    if (listed.code !== 0) continue;
    for (const line of listed.out.split('\n').filter((l) => l.startsWith('-A ') && l.includes(`pipewright build ${buildId}`))) {
      // `iptables -S` prints the rule as it was added; -D with the same words removes it.
      const words = line.match(/"[^"]*"|\S+/g)!.map((w) => w.replace(/^"|"$/g, ''));
      await sh(tool, ['-w', '-t', table, '-D', ...words.slice(1)]);
    }
  }
  await sh('ip', ['netns', 'delete', `pwb-${id}`]);
  await sh('ip', ['link', 'delete', `pwb${id}h`]);
  await rm(`/etc/netns/pwb-${id}`, { recursive: true, force: true });
}
