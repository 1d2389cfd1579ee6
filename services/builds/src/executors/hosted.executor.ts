import type { ResolvedImageRegistry } from '@pipewright/contracts';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolveResource } from './environment';
import { checkout, resolveRepository } from './git';
import { createLimits, releaseLimits, type BuildLimits } from './limits';
import { createSandbox, dockerfileBaseImages, releaseSandbox, type Sandbox } from './sandbox';
import { inside } from './paths';
import { runProcess, type ProcessResult } from './process';
import { buildSource } from './source.executor';
import { BuildFailure, type BuildExecutor, type BuildResult, type ExecutorContext } from './executor';
import { checkOutboundUrl, OutboundRefusedError, type OutboundPolicy } from '@pipewright/platform';

interface HostedConfig {
  buildImage: string;
  cpu?: number;
  memoryMb?: number;
  timeLimitMinutes?: number;
  buildCommand?: string;
  dockerfilePath?: string;
  contextPath?: string;
  registryId: string;
  imageName: string;
  useTagFormat?: boolean;
  tagFormat?: string;
  repositoryId?: string;
  branch?: string;
}

/** How many lines of the build command's output an error message quotes. */
const TAIL_LINES = 15;

/** The image tag: the tag format with {BUILD_NUMBER} and {COMMIT} filled in, or the build number when the format is off. */
export function imageTag(c: Pick<HostedConfig, 'useTagFormat' | 'tagFormat'>, buildNumber: number, commit: string): string {
  if (c.useTagFormat === false) return String(buildNumber);
  return (c.tagFormat ?? '{BUILD_NUMBER}').replaceAll('{BUILD_NUMBER}', String(buildNumber)).replaceAll('{COMMIT}', commit.slice(0, 12));
}

/** host[:port] of a registry URL (with or without a scheme). */
export function registryHost(url: string): string {
  return new URL(/^[a-z]+:\/\//i.test(url) ? url : `https://${url}`).host;
}

/** Transports buildah takes before a `:` instead of a registry name: a reference must never name one. */
const TRANSPORTS = new Set(['docker', 'docker-archive', 'docker-daemon', 'oci', 'oci-archive', 'dir', 'containers-storage', 'ostree', 'sif', 'tarball']);
/** A registry image reference: [host[:port]/]path[:tag][@digest] (the distribution grammar, lower-case path). */
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REFERENCE = new RegExp(
  `^(?:((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)/)?(${COMPONENT}(?:/${COMPONENT})*)(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

/**
 * Why `image` cannot be pulled for a build, or null: it must be a registry reference. A transport
 * (`dir:/...`, `containers-storage:...`, `docker://...`) would read files or images of the builds
 * service's host, and `localhost/...` is its local image store (other builds' images).
 */
export function imageReferenceProblem(image: string): string | null {
  const transport = /^([a-z-]+):/.exec(image)?.[1];
  if (transport && TRANSPORTS.has(transport) && !/^[a-z-]+:[0-9]+\//.test(image)) return `"${image}" names the transport "${transport}:": give a registry image, e.g. registry.example.com/team/image:tag`;
  const match = REFERENCE.exec(image);
  if (!match) return `"${image}" is not an image reference: give [registry[:port]/]name[:tag], the name in lower case, e.g. registry.example.com/team/image:tag`;
  if (match[1] === 'localhost') return `"${image}" names the builds service's own image store (localhost/...): give a registry image`;
  return null;
}

/**
 * The registry host an image reference names (`host[:port]/path[:tag]`), or null when it names
 * none (`alpine`, `team/app`: registries.conf's search list decides).
 */
export function imageReferenceHost(image: string): string | null {
  const slash = image.indexOf('/');
  if (slash <= 0) return null;
  const first = image.slice(0, slash).toLowerCase();
  if (first !== 'localhost' && !/[.:]/.test(first)) return null;
  return first;
}

/**
 * Checks an image the pipeline names (the build image, a Dockerfile's FROM) before it is pulled:
 * a registry reference (imageReferenceProblem), whose registry is not an address of the platform's
 * own network unless OUTBOUND_ALLOW allows it, or is the stage's own image registry (set by a
 * project admin). A name that does not resolve here is refused unless OUTBOUND_ALLOW names it.
 */
export async function checkImageSource(image: string, what: string, registryHostOfStage: string, policy: OutboundPolicy): Promise<void> {
  const problem = imageReferenceProblem(image);
  if (problem) throw new BuildFailure(`${what} ${problem}`);
  const host = imageReferenceHost(image);
  if (!host || host === registryHostOfStage.toLowerCase()) return;
  const url = new URL(`https://${host}`);
  try {
    await checkOutboundUrl(url, policy);
  } catch (err) {
    if (!(err instanceof OutboundRefusedError)) throw err;
    // A name that does not resolve here is refused too (buildah would resolve it again, and might
    // get another answer), unless the operator allows that very host:port (e.g. behind a proxy).
    if (err.address === null && policy.hostPorts.has(`${url.hostname.toLowerCase()}:${url.port || 443}`)) return;
    throw new BuildFailure(`${what} ${image}: ${err.message}`);
  }
}

/**
 * The hosted build tool: fetch the source (the stage's repository and branch, else the nearest
 * upstream Source stage's commit, else a git/commit run artifact), run the build command in the
 * build image (buildah, chroot isolation) with the workspace mounted and the time limit enforced,
 * build the Dockerfile, and push `<registry>/<namespace>/<image>:<tag>`. Outputs a docker/image
 * artifact with the pushed digest, and in `source` what was built.
 */
async function hostedBuild(ctx: ExecutorContext): Promise<BuildResult> {
  const c = ctx.command.config as unknown as HostedConfig;
  const registry = await resolveResource(ctx, 'image-registry', c.registryId, 'registryId');
  const host = registryHost(registry.url);
  const tlsVerify = `--tls-verify=${!registry.insecure && !/^(localhost|127\.)/.test(host)}`;
  const authFile = join(ctx.workspace, 'auth.json');
  const auths: Record<string, { auth: string }> = {};
  if (registry.username && registry.password) auths[host] = { auth: Buffer.from(`${registry.username}:${registry.password}`).toString('base64') };
  await writeFile(authFile, JSON.stringify({ auths }), { mode: 0o600 });

  // 1. The source.
  const wanted = buildSource(ctx.command, c.repositoryId, c.branch);
  if (!wanted) {
    throw new BuildFailure(
      'no source to build: set repositoryId (and branch) in this stage, or put a Source stage (SOURCE_GITHUB or SOURCE_GITLAB) upstream of it, in its dependsOn directly or through other stages',
    );
  }
  const repo = await resolveRepository(ctx, wanted.repositoryId, wanted.field);
  const src = join(ctx.workspace, 'src');
  const at = await checkout(ctx, repo, src, wanted.branch, wanted.commit);
  ctx.log.line(`source: ${repo.name} ${at.branch} at ${at.commit}${wanted.refId ? ` (the commit of Source stage ${wanted.refId})` : ''}`);
  // Which source was built: `refId` names the Source stage it came from, `artifact` the run artifact.
  const source = { ...(wanted.refId ? { refId: wanted.refId } : {}), ...(wanted.artifact ? { artifact: wanted.artifact } : {}), repositoryId: wanted.repositoryId, branch: at.branch, commit: at.commit };

  // The build's CPU and memory size, applied through cgroups where this machine allows it.
  const size = { cpu: c.cpu ?? 1, memoryMb: c.memoryMb ?? 2048 };
  const limits = await createLimits(ctx.buildId, size);
  const resources = { ...size, enforced: limits.mechanism !== null, mechanism: limits.mechanism };
  // The build's own code (its command, its Dockerfile's RUN steps) runs in a network namespace of its own.
  let sandbox: Sandbox;
  try {
    sandbox = await createSandbox(ctx.buildId, ctx.buildNetwork, ctx.buildDns);
  } catch (err) {
    await limits.dispose();
    throw new BuildFailure((err as Error).message);
  }
  ctx.log.line(sandbox.describe);
  ctx.log.line(
    limits.mechanism
      ? `resources: ${size.cpu} CPU, ${size.memoryMb} MB, enforced through ${limits.mechanism}`
      : `resources: ${size.cpu} CPU, ${size.memoryMb} MB (recorded; this machine lets the build service set no cgroup limits)`,
  );
  // Cleanup (`cleanup: true`) runs even after a cancel: it does not listen to the abort signal.
  // Long steps (`limited: true`) run under the build's limits.
  const buildah = (args: string[], options: { timeoutMs?: number; quiet?: boolean; cleanup?: boolean; limited?: boolean; sandboxed?: boolean } = {}) => {
    const full = ['--storage-driver', ctx.tools.buildahStorageDriver, ...args];
    const inner = options.sandboxed ? sandbox.wrap(ctx.tools.buildah, full) : { command: ctx.tools.buildah, args: full };
    const run = options.limited ? limits.wrap(inner.command, inner.args) : { ...inner, env: {} };
    return runProcess(run.command, run.args, {
      signal: options.cleanup ? undefined : ctx.signal,
      timeoutMs: options.timeoutMs ?? (options.cleanup ? 120_000 : undefined),
      keepOutput: true,
      onLine: options.quiet ? undefined : (l) => ctx.log.line(l),
      env: { ...process.env, REGISTRY_AUTH_FILE: authFile, ...run.env },
      // The process group of a long step, so that a restarted service can kill what a crash left running.
      onSpawn: options.cleanup ? undefined : (pgid) => void ctx.saveState({ ...ctx.state, pgid, host: hostname() }).catch(() => undefined),
    });
  };
  try {
    return await buildAndPush(ctx, c, { buildah, limits, resources, tlsVerify, host, registry, src, at, source });
  } finally {
    await sandbox.dispose();
    await limits.dispose();
  }
}

async function buildAndPush(
  ctx: ExecutorContext,
  c: HostedConfig,
  x: {
    buildah: (args: string[], options?: { timeoutMs?: number; quiet?: boolean; cleanup?: boolean; limited?: boolean; sandboxed?: boolean }) => Promise<ProcessResult>;
    limits: BuildLimits;
    resources: Record<string, unknown>;
    tlsVerify: string;
    host: string;
    registry: ResolvedImageRegistry;
    src: string;
    at: { branch: string; commit: string };
    source: Record<string, unknown>;
  },
): Promise<BuildResult> {
  const { buildah, limits, resources, tlsVerify, host, registry, src, at, source } = x;
  const tag = imageTag(c, ctx.number, at.commit);
  const repository = [host, registry.namespace, c.imageName].filter(Boolean).join('/');
  const reference = `${repository}:${tag}`;
  /** A step killed by SIGKILL (exit 137) while the memory limit was hit ran out of memory. */
  const outOfMemory = async (step: string, result: ProcessResult) =>
    result.code === 137 && (await limits.outOfMemory()) ? new BuildFailure(`${step} ran out of memory: it needed more than the build's ${c.memoryMb ?? 2048} MB (memoryMb)`) : null;

  // 2. The build command, in the build image, with the workspace mounted.
  if (c.buildCommand?.trim()) {
    const minutes = c.timeLimitMinutes ?? 30;
    await checkImageSource(c.buildImage, 'cannot pull build image', host, ctx.outbound);
    ctx.log.line(`starting build image ${c.buildImage}`);
    // docker://: from a registry, never another transport (checkImageSource refused those already).
    const from = await buildah(['from', tlsVerify, '--quiet', '--pull', '--name', `pw-build-${ctx.buildId}`, `docker://${c.buildImage}`], { quiet: true, timeoutMs: 10 * 60_000 });
    if (from.code !== 0) throw new BuildFailure(`cannot start build image ${c.buildImage}: ${tail(from, 3)}`);
    const container = from.stdout.trim().split('\n').pop()!;
    try {
      ctx.log.line(`$ ${c.buildCommand}`);
      const ran = await buildah(['run', '--isolation', 'chroot', '--volume', `${src}:/workspace:rw`, '--workingdir', '/workspace', container, '--', '/bin/sh', '-c', c.buildCommand], { timeoutMs: minutes * 60_000, limited: true, sandboxed: true });
      if (ran.timedOut) throw new BuildFailure(`time limit of ${minutes} minute${minutes === 1 ? '' : 's'} reached: the build command was stopped`);
      if (ran.aborted) throw new BuildFailure('the build command was stopped');
      if (ran.code !== 0) {
        const oom = await outOfMemory('the build command', ran);
        if (oom) throw oom;
      }
      if (ran.code !== 0) throw new BuildFailure(`the build command exited with code ${ran.code}; its last lines:\n${tail(ran, TAIL_LINES)}`);
    } finally {
      await buildah(['rm', container], { quiet: true, cleanup: true });
    }
  }

  // 3. The image, from the Dockerfile, pushed. The paths are checked now, after the build command
  // could have replaced them with links out of the workspace.
  const dockerfile = inside(src, c.dockerfilePath ?? 'Dockerfile', 'dockerfilePath');
  const context = inside(src, c.contextPath ?? '.', 'contextPath');
  const local = `localhost/pipewright-build/${ctx.buildId}:${tag}`;
  ctx.log.line(`building ${c.dockerfilePath ?? 'Dockerfile'} (context ${c.contextPath ?? '.'})`);
  // The base images are pulled here, outside the sandbox (which cannot reach the registry); the
  // build itself then only uses what is in the store.
  const bases = dockerfileBaseImages(await readFile(dockerfile, 'utf8').catch(() => ''));
  for (const image of bases) await checkImageSource(image, `cannot pull base image of ${c.dockerfilePath ?? 'Dockerfile'}:`, host, ctx.outbound);
  for (const image of bases) {
    const pulled = await buildah(['pull', tlsVerify, '--quiet', `docker://${image}`], { quiet: true, timeoutMs: 10 * 60_000 });
    if (pulled.code !== 0) throw new BuildFailure(`cannot pull base image ${image} of ${c.dockerfilePath ?? 'Dockerfile'}: ${tail(pulled, 3)}`);
  }
  const bud = await buildah(['bud', '--isolation', 'chroot', '--pull=false', tlsVerify, '--format', 'docker', '-f', dockerfile, '-t', local, context], {
    timeoutMs: (c.timeLimitMinutes ?? 30) * 60_000,
    limited: true,
    sandboxed: true,
  });
  if (bud.timedOut) throw new BuildFailure(`time limit of ${c.timeLimitMinutes ?? 30} minutes reached while building the image`);
  if (bud.aborted) throw new BuildFailure('the image build was stopped');
  if (bud.code !== 0) throw (await outOfMemory('the image build', bud)) ?? new BuildFailure(`the image build failed (exit code ${bud.code}); its last lines:\n${tail(bud, TAIL_LINES)}`);
  try {
    ctx.log.line(`pushing ${reference}`);
    const digestFile = join(ctx.workspace, 'digest');
    const push = await buildah(['push', tlsVerify, '--digestfile', digestFile, local, `docker://${reference}`], { timeoutMs: 30 * 60_000 });
    if (push.code !== 0) {
      const said = tail(push, 3);
      const denied = /unauthorized|authentication required|denied/i.test(said);
      throw new BuildFailure(denied ? `registry ${registry.name} (${host}) refused the push of ${reference}: check its user name and password` : `cannot push ${reference}: ${said}`);
    }
    const digest = (await readFile(digestFile, 'utf8')).trim() || null;
    ctx.log.line(`pushed ${reference}${digest ? ` (${digest})` : ''}`);
    const artifact = { type: 'docker/image', reference, digest, tag };
    return { status: 'SUCCEEDED', outputs: { ...artifact, artifact, buildNumber: ctx.number, commit: at.commit, source, repository, resources } };
  } finally {
    await buildah(['rmi', '--force', local], { quiet: true, cleanup: true });
  }
}

function tail(result: ProcessResult, n: number): string {
  const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.trim());
  return lines.slice(-n).join('\n') || '(no output)';
}

export const hostedExecutor: BuildExecutor = {
  type: 'BUILD_HOSTED',
  resumable: false,
  run: hostedBuild,
  /** What a killed build left: its process group (on this host), its build container and local image. */
  async abandon(ctx) {
    const { pgid, host } = ctx.state as { pgid?: number; host?: string };
    if (pgid && host === hostname()) killGroupIfBuildah(pgid);
    await releaseLimits(ctx.buildId);
    await releaseSandbox(ctx.buildId);
    const buildah = (args: string[]) => runProcess(ctx.tools.buildah, ['--storage-driver', ctx.tools.buildahStorageDriver, ...args], { timeoutMs: 120_000 });
    await buildah(['rm', `pw-build-${ctx.buildId}`]);
    const images = await buildah(['images', '--noheading', '--format', '{{.Name}}:{{.Tag}}', `localhost/pipewright-build/${ctx.buildId}`]);
    for (const image of images.stdout.split('\n').filter((l) => l.includes(ctx.buildId))) await buildah(['rmi', '--force', image.trim()]);
  },
};

/** SIGKILLs a process group a previous life of the service started, if it still runs buildah (not a reused id). */
function killGroupIfBuildah(pgid: number) {
  try {
    if (!readFileSync(`/proc/${pgid}/cmdline`, 'utf8').includes('buildah')) return;
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone already
  }
}
