import type { ResolvedSourceRepository, stageDefinitions } from '@pipewright/contracts';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { isMap, isSeq, parse as parseYaml, parseDocument } from 'yaml';
import type { z } from 'zod';
import { commandLine, escapeSetValue, helmEnv, helmMessage, readChartMeta } from './bake-helm';
import { fetchChart } from './chart-fetch';
import { inside, refuseLinksOut } from './paths';
import { abortReasonText, BuildFailure, stageConfig, type BuildExecutor, type BuildResult, type ExecutorContext } from './executor';
import { resolveResource } from './environment';
import { checkout, resolveRepository } from './git';
import { runProcess, type ProcessResult } from './process';

type BakeStage = Extract<(typeof stageDefinitions)[number], { type: 'BAKE_MANIFEST' }>;
export type BakeConfig = z.output<BakeStage['config']>;


interface Chart {
  /** Relative to the workspace, e.g. `./chart/hello`. */
  dir: string;
  name: string;
  version?: string;
}

interface Checkout {
  repositoryId: string;
  repo: ResolvedSourceRepository;
  branch: string;
  commit: string;
  dir: string;
  /** The upstream Source stage whose commit this is (unset: the tip of the branch). */
  refId?: string;
}

/** Renders a Helm chart with `helm template` into a manifest (a bake can simply be redone after a restart). */
export const bakeExecutor: BuildExecutor = {
  type: 'BAKE_MANIFEST',
  resumable: true,
  run: (ctx) => new Bake(ctx).run(),
};

class Bake {
  private config!: BakeConfig;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly ctx: ExecutorContext) {
    this.env = helmEnv(join(ctx.workspace, '.helm'));
  }

  async run(): Promise<BuildResult> {
    const { ctx } = this;
    const parsed = stageConfig<BakeConfig>(ctx, 'BAKE_MANIFEST');
    if ('failure' in parsed) return parsed.failure;
    this.config = parsed.config;
    try {
      await mkdir(join(ctx.workspace, '.helm'), { recursive: true });
      await writeFile(this.env.KUBECONFIG!, '');
      return await this.bake();
    } catch (err) {
      if (ctx.signal.aborted) return { status: 'CANCELED', error: abortReasonText(ctx.signal.reason) };
      if (err instanceof BuildFailure) return { status: 'FAILED', error: err.message, outputs: err.outputs };
      throw err;
    }
  }

  private async bake(): Promise<BuildResult> {
    const { ctx, config } = this;
    const { chart, source } = config.template.source === 'GIT_FILE' ? await this.chartFromGit() : await this.chartFromRepository();
    const args = ['template', config.releaseName, chart.dir, '--namespace', config.namespace, '--skip-tests'];
    const values = config.valuesFile ? await this.valuesFile(source) : undefined;
    if (values) args.push('-f', values.file);
    for (const { key, value } of config.overrides) args.push(config.replaceBasicType ? '--set' : '--set-string', `${key}=${escapeSetValue(value)}`);

    ctx.log.line(`$ ${commandLine(args)}`);
    // stdout is the manifest (kept, not logged); stderr lines are helm's warnings or its error.
    const res = await this.helm(args, { timeoutMs: 5 * 60_000, logOutput: false });
    for (const line of res.stderr.split('\n')) if (line.trim()) ctx.log.line(line);
    if (res.aborted) return { status: 'CANCELED', error: abortReasonText(ctx.signal.reason) };
    if (res.timedOut) return { status: 'FAILED', error: 'helm template did not finish within 5 minutes' };
    if (res.code !== 0) return { status: 'FAILED', error: `helm template of chart ${chart.name} failed: ${helmMessage(res.stderr)}` };

    const manifest = res.stdout;
    const resources = manifest.match(/^kind:\s*\S+/gm)?.length ?? 0;
    ctx.log.line(`rendered ${resources} resource${resources === 1 ? '' : 's'} of chart ${chart.name}${chart.version ? ` ${chart.version}` : ''} for release ${config.releaseName} in namespace ${config.namespace}`);
    const outputs: Record<string, unknown> = { type: 'manifest', manifest, chart: chart.name, release: config.releaseName, namespace: config.namespace };
    if (chart.version) outputs.chartVersion = chart.version;
    // Which commits were rendered; `refId` names the upstream Source stage a commit came from.
    if (source) outputs.source = described(source);
    if (values) outputs.valuesSource = described(values.source);
    return resources === 0 ? { status: 'SUCCEEDED', outputs, warning: `chart ${chart.name} rendered no resources` } : { status: 'SUCCEEDED', outputs };
  }

  /** Runs helm in the workspace with the build's own helm home. */
  private async helm(args: string[], opts: { timeoutMs: number; logOutput?: boolean }): Promise<ProcessResult> {
    return runProcess(this.ctx.tools.helm, args, {
      env: this.env,
      cwd: this.ctx.workspace,
      signal: this.ctx.signal,
      timeoutMs: opts.timeoutMs,
      onLine: opts.logOutput === false ? undefined : (line) => line.trim() && this.ctx.log.line(line),
    });
  }

  /** Runs a preparatory helm command (logged with its output); fails with `what` and helm's message. */
  private async helmStep(args: string[], what: string): Promise<void> {
    this.ctx.log.line(`$ ${commandLine(args)}`);
    const res = await this.helm(args, { timeoutMs: 10 * 60_000 });
    if (res.aborted) throw new BuildFailure(abortReasonText(this.ctx.signal.reason));
    if (res.timedOut) throw new BuildFailure(`${what}: helm did not finish within 10 minutes`);
    if (res.code !== 0) {
      const message = helmMessage(res.stderr);
      throw new BuildFailure(`${what}: ${message}`);
    }
  }

  private async chartFromRepository(): Promise<{ chart: Chart; source?: Checkout }> {
    const { ctx } = this;
    const template = this.config.template;
    if (template.source !== 'CHART_REPOSITORY') throw new Error('unreachable');
    const repo = await resolveResource(this.ctx, 'chart-repository', template.chartRepositoryId, 'template.chartRepositoryId');
    const what = `cannot fetch chart "${template.chart}"${template.version ? ` version ${template.version}` : ''} from chart repository ${repo.name} (${repo.url})`;
    if (/^oci:/i.test(repo.url)) {
      throw new BuildFailure(`${what}: it is an OCI registry; Bake fetches charts from HTTP(S) chart repositories (an index.yaml) only: use one, or bake the chart from git (template.source GIT_FILE)`);
    }
    // Fetched here, behind the outbound guard (the archive's URL is the index's to say, and may
    // point anywhere, or redirect); helm renders the archive as it is.
    const fetched = await fetchChart(repo, template.chart, template.version, { policy: ctx.outbound, signal: ctx.signal, what, log: (l) => ctx.log.line(l) }).catch((err: unknown) => {
      throw err instanceof BuildFailure ? new BuildFailure(credentialHint(err.message, repo.name)) : err;
    });
    const dest = join(ctx.workspace, 'chart');
    await mkdir(dest, { recursive: true });
    const file = join(dest, archiveName(fetched.name, fetched.version));
    await writeFile(file, fetched.archive);
    return { chart: { dir: `./${relative(ctx.workspace, file)}`, name: fetched.name, version: fetched.version } };
  }

  /**
   * Where a git file is read: at the nearest upstream Source stage's commit when it is that stage's
   * repository and the config names no other branch (chart and image come from one commit), else at
   * the tip of the branch.
   */
  private pinned(repositoryId: string, branch: string | undefined): { branch?: string; commit?: string; refId?: string } {
    const s = this.ctx.command.source;
    if (s && s.repositoryId === repositoryId && (!branch || branch === s.branch)) return { branch: s.branch || branch, commit: s.commit, refId: s.refId };
    return { branch };
  }

  private async checkoutInto(repositoryId: string, field: string, branch: string | undefined, dirName: string): Promise<Checkout> {
    const repo = await resolveRepository(this.ctx, repositoryId, field);
    const dir = join(this.ctx.workspace, 'src', dirName);
    await mkdir(dir, { recursive: true });
    const at = this.pinned(repositoryId, branch);
    const done = await checkout(this.ctx, repo, dir, at.branch, at.commit);
    this.ctx.log.line(`checked out ${repo.name} ${done.branch} at ${done.commit.slice(0, 12)}${at.refId ? ` (the commit of Source stage ${at.refId})` : ''}`);
    return { repositoryId, repo, dir, ...done, refId: at.refId };
  }

  private async chartFromGit(): Promise<{ chart: Chart; source: Checkout }> {
    const { ctx } = this;
    const template = this.config.template;
    if (template.source !== 'GIT_FILE') throw new Error('unreachable');
    const source = await this.checkoutInto(template.repositoryId, 'template.repositoryId', template.branch, 'chart');
    const dir = inside(source.dir, template.path, 'template.path');
    const meta = existsSync(dir) && statSync(dir).isDirectory() ? await readChartMeta(dir) : undefined;
    if (!meta) throw new BuildFailure(`"${template.path}" on branch ${source.branch} of ${source.repo.name} is not a Helm chart directory (no Chart.yaml there): fix template.path`);
    const rel = `./${relative(ctx.workspace, dir)}`;
    // helm follows symbolic links when it loads a chart directory: none may lead out of the checkout.
    await refuseLinksOut(source.dir, [dir], `chart ${template.path}`);
    if (meta.dependencies > 0) await this.vendorDependencies(source.dir, dir, `cannot build the dependencies of chart ${meta.name} (${template.path})`);
    return { chart: { dir: rel, name: meta.name || template.path, version: meta.version }, source };
  }

  /**
   * A git chart's dependencies, without helm reaching out: each one from an HTTP(S) repository is
   * fetched here (fetchChart: behind the outbound guard, the version Chart.lock pins or else the
   * one Chart.yaml allows) and unpacked in the workspace, Chart.yaml is pointed at it (file://),
   * and `helm dependency update` then only copies local charts into charts/. A `file://` one must
   * stay inside the checkout; an OCI one is refused.
   */
  private async vendorDependencies(root: string, dir: string, what: string): Promise<void> {
    const { ctx } = this;
    const chartFile = join(dir, 'Chart.yaml');
    const doc = parseDocument(await readFile(chartFile, 'utf8'), { merge: true });
    const lockFile = join(dir, 'Chart.lock');
    const lock = existsSync(lockFile) ? ((parseYaml(await readFile(lockFile, 'utf8')) ?? {}) as { dependencies?: { name?: string; version?: string; repository?: string }[] }) : {};
    const deps = doc.get('dependencies');
    if (!isSeq(deps)) return;
    for (const [i, item] of deps.items.entries()) {
      if (!isMap(item)) continue;
      const name = String(item.get('name') ?? '');
      const repository = String(item.get('repository') ?? '').trim();
      const label = `${what}: dependency ${name || `#${i + 1}`}`;
      if (!CHART_NAME.test(name)) throw new BuildFailure(`${label}: "${name}" is not a chart name (letters, digits, ".", "_", "-")`);
      if (/^file:\/\//i.test(repository)) {
        const local = inside(root, relative(root, resolve(dir, repository.slice('file://'.length))), `${label}: its repository`);
        if (existsSync(local)) await refuseLinksOut(root, [local], label);
        continue;
      }
      if (/^oci:/i.test(repository)) throw new BuildFailure(`${label}: ${repository} is an OCI registry; a dependency comes from an HTTP(S) chart repository or file://`);
      if (!/^https?:\/\//i.test(repository)) continue; // a `helm repo add` name or @alias: helm says it has none
      const pinned = lock.dependencies?.find((d) => d.name === name)?.version;
      const wanted = pinned ?? (item.get('version') === undefined ? undefined : String(item.get('version')));
      const fetched = await fetchChart({ url: repository }, name, wanted, { policy: ctx.outbound, signal: ctx.signal, what: `${label} from ${repository}`, log: (l) => ctx.log.line(l) });
      // The index names the chart it lists under this name; a different one (or a path) is refused.
      if (fetched.name !== name) throw new BuildFailure(`${label}: the index of ${repository} lists "${fetched.name}" under ${name}`);
      const unpacked = join(ctx.workspace, 'dependencies', `${i}`);
      const archive = join(ctx.workspace, 'dependencies', `${i}.tgz`);
      await mkdir(unpacked, { recursive: true });
      await writeFile(archive, fetched.archive);
      await unpackChart(archive, unpacked, `${label}: the archive from ${fetched.url}`, ctx.signal);
      const chartDir = join(unpacked, name);
      if (!existsSync(join(chartDir, 'Chart.yaml'))) throw new BuildFailure(`${label}: the archive from ${fetched.url} holds no chart ${name}/`);
      await refuseLinksOut(unpacked, [unpacked], `${label}: the archive from ${fetched.url}`);
      item.set('repository', `file://${relative(dir, chartDir)}`);
      if (pinned) item.set('version', pinned);
    }
    const rewritten = doc.toString();
    // What helm will read (aliases and merge keys resolved, as Go's YAML does): no URL is left.
    const check = (parseYaml(rewritten, { merge: true, maxAliasCount: 100 }) ?? {}) as { dependencies?: { name?: unknown; repository?: unknown }[] };
    for (const d of Array.isArray(check.dependencies) ? check.dependencies : []) {
      if (typeof d?.repository === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(d.repository.trim()) && !/^file:\/\//i.test(d.repository.trim())) {
        throw new BuildFailure(`${what}: dependency ${String(d.name)} names ${d.repository} in a way the bake cannot follow (a YAML alias?): write each dependency out in Chart.yaml`);
      }
    }
    await writeFile(chartFile, rewritten);
    await rm(lockFile, { force: true }); // helm writes it again, for the local charts
    await this.helmStep(['dependency', 'update', `./${relative(ctx.workspace, dir)}`, '--skip-refresh'], what);
  }

  /** The values file, from the chart's own checkout when it is the same repository, branch and commit. */
  private async valuesFile(chartSource: Checkout | undefined): Promise<{ file: string; source: Checkout }> {
    const values = this.config.valuesFile!;
    const want = this.pinned(values.repositoryId, values.branch);
    const sameCheckout =
      chartSource && chartSource.repositoryId === values.repositoryId && chartSource.refId === want.refId && (want.branch || chartSource.repo.defaultBranch) === chartSource.branch;
    const source = sameCheckout ? chartSource : await this.checkoutInto(values.repositoryId, 'valuesFile.repositoryId', values.branch, 'values');
    const file = inside(source.dir, values.path, 'valuesFile.path');
    if (!existsSync(file) || !statSync(file).isFile()) {
      throw new BuildFailure(`${source.repo.name} has no file "${values.path}" on branch ${source.branch}: fix valuesFile.path`);
    }
    return { file: `./${relative(this.ctx.workspace, file)}`, source };
  }
}

/** A checkout as the stage's outputs name it. */
function described(c: Checkout): Record<string, unknown> {
  return { ...(c.refId ? { refId: c.refId } : {}), repositoryId: c.repositoryId, branch: c.branch, commit: c.commit };
}

/** A chart's name as it may be a directory of the workspace. */
const CHART_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
/** The most a fetched chart may unpack to (a small archive can expand enormously). */
const MAX_UNPACKED_BYTES = 100 * 1024 * 1024;

/** Unpacks a chart archive into `dir` once its listing shows it fits (GNU tar: no `..`, no absolute paths). */
async function unpackChart(archive: string, dir: string, what: string, signal: AbortSignal): Promise<void> {
  const listed = await runProcess('tar', ['-tvzf', archive], { signal, timeoutMs: 60_000, keepOutput: true });
  if (listed.code !== 0) throw new BuildFailure(`${what} is not a gzipped tar archive: ${listed.stderr.trim().split('\n').pop()}`);
  let total = 0;
  for (const line of listed.stdout.split('\n')) {
    const size = Number(line.trim().split(/\s+/)[2]);
    if (/^[^-dl]/.test(line)) throw new BuildFailure(`${what} holds something other than files, directories and links: ${line.trim()}`);
    if (Number.isFinite(size)) total += size;
  }
  if (total > MAX_UNPACKED_BYTES) throw new BuildFailure(`${what} unpacks to ${Math.round(total / 1024 / 1024)} MiB, more than the ${MAX_UNPACKED_BYTES / 1024 / 1024} MiB a chart may`);
  const untar = await runProcess('tar', ['-xzf', archive, '-C', dir, '--no-same-owner', '--no-same-permissions'], { signal, timeoutMs: 60_000, keepOutput: true });
  if (untar.code !== 0) throw new BuildFailure(`${what} does not unpack: ${untar.stderr.trim().split('\n').pop()}`);
}

/** The file name of a fetched chart archive: its name and version, with nothing that could leave the directory. */
function archiveName(name: string, version: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]/g, '_')}-${version.replace(/[^A-Za-z0-9.+_-]/g, '_')}.tgz`;
}

/** Adds what to check when helm's message is about authentication. */
function credentialHint(message: string, repoName: string): string {
  if (!/\b(401|403)\b|unauthori[sz]ed|forbidden/i.test(message)) return message;
  return `${message} (check the user name and password of chart repository ${repoName})`;
}
