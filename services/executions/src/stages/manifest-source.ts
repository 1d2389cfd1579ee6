import type { ResolvedSourceRepository } from '@pipewright/contracts';
import { QueryError } from '@pipewright/messaging';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRefusal, StageStop } from './kubernetes';
import { failed, type StageContext } from './stage-type';

export interface ManifestConfig {
  manifest?: string;
  manifestArtifact?: string;
  manifestFile?: { repositoryId: string; path: string; branch?: string };
}

/** The manifest text a DEPLOY applies: given in the stage, an artifact of an earlier stage, or a file in a repository. */
export async function manifestText(ctx: StageContext, c: ManifestConfig): Promise<{ text: string; source: string }> {
  if (c.manifest) return { text: c.manifest, source: 'the stage' };
  if (c.manifestArtifact) return { text: fromArtifact(ctx, c.manifestArtifact), source: `artifact ${c.manifestArtifact}` };
  if (c.manifestFile) return { text: await fromRepository(ctx, c.manifestFile), source: `${c.manifestFile.path} in repository ${c.manifestFile.repositoryId}` };
  throw new StageStop(failed('the stage gives no manifest: set manifest, manifestArtifact or manifestFile', false));
}

function fromArtifact(ctx: StageContext, name: string): string {
  const artifacts = ctx.run.artifacts;
  if (!(name in artifacts)) {
    const known = Object.keys(artifacts);
    throw new StageStop(
      failed(`no artifact named "${name}" in this run (it has ${known.length ? known.join(', ') : 'none'}): an earlier stage's end condition must produce it, e.g. a BAKE_MANIFEST stage`, false),
    );
  }
  const value = artifacts[name];
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    for (const key of ['manifest', 'yaml', 'text', 'content']) if (typeof v[key] === 'string') return v[key] as string;
    // Documents already parsed (an object, or a list of them) are applied as JSON.
    return JSON.stringify(Array.isArray(value) ? { apiVersion: 'v1', kind: 'List', items: value } : value);
  }
  throw new StageStop(failed(`artifact "${name}" is not a manifest (it is ${value === null ? 'null' : typeof value})`, false));
}

/** References of the docker/image artifacts of the run (from builds): they replace images of the same repository. */
export function imageArtifacts(artifacts: Record<string, unknown>): string[] {
  const refs: string[] = [];
  for (const value of Object.values(artifacts)) {
    const v = value as { type?: unknown; reference?: unknown } | null;
    if (v && typeof v === 'object' && v.type === 'docker/image' && typeof v.reference === 'string') refs.push(v.reference);
  }
  return refs;
}

/** One file at the tip of a branch: a shallow fetch with the token in a header (never in a URL or a command line). */
async function fromRepository(ctx: StageContext, file: { repositoryId: string; path: string; branch?: string }): Promise<string> {
  let repo: ResolvedSourceRepository;
  try {
    repo = await ctx.request('rpc.environments.source-repository.resolve', { id: file.repositoryId, projectId: ctx.run.projectId }, { timeoutMs: 5000 });
  } catch (err) {
    if (err instanceof QueryError && err.code === 'NOT_FOUND') throw new StageStop(failed(`source repository ${file.repositoryId} does not exist any more: fix manifestFile.repositoryId (the environments service said: ${err.message}; a run may only use its project's repositories)`, false));
    if (isRefusal(err)) throw new StageStop(failed(`source repository ${file.repositoryId} cannot be used by this run: ${(err as Error).message}`, false));
    throw new StageStop(failed(`cannot read source repository ${file.repositoryId}: the environments service did not answer`, true));
  }
  const branch = file.branch || repo.defaultBranch;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '/bin/false', LC_ALL: 'C' };
  if (repo.token) {
    const user = repo.provider === 'GITLAB' ? 'oauth2' : 'x-access-token';
    Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`${user}:${repo.token}`).toString('base64')}` });
  }
  const dir = await mkdtemp(join(tmpdir(), 'pw-manifest-'));
  try {
    await git(['init', '-q', dir], env, ctx.signal);
    const fetched = await git(['-C', dir, 'fetch', '-q', '--depth', '1', repo.url, `refs/heads/${branch}`], env, ctx.signal);
    if (fetched.code !== 0) {
      const said = fetched.err.trim().split('\n').pop() ?? '';
      const missing = /couldn't find remote ref/i.test(fetched.err);
      throw new StageStop(failed(missing ? `repository ${repo.name} has no branch "${branch}": fix manifestFile.branch` : `cannot fetch branch ${branch} of repository ${repo.name}: ${said}`, !missing));
    }
    const shown = await git(['-C', dir, 'show', `FETCH_HEAD:${file.path.replace(/^\/+/, '')}`], env, ctx.signal);
    if (shown.code !== 0) throw new StageStop(failed(`repository ${repo.name} has no file "${file.path}" on branch ${branch}: fix manifestFile.path`, false));
    return shown.out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs git, killed after 60 s or when `signal` aborts (the engine's lease on the attempt is gone). */
function git(args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env, stdio: ['ignore', 'pipe', 'pipe'], signal, killSignal: 'SIGKILL' });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.stderr.on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      if (signal.aborted) return reject(signal.reason);
      reject(new StageStop(failed(`cannot run git: ${e.message}; install git on the executions service's machine`, false)));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out, err });
    });
  });
}
