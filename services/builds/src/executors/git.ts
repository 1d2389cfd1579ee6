import type { ResolvedSourceRepository } from '@pipewright/contracts';
import { runProcess } from './process';
import { resolveResource } from './environment';
import { BuildFailure, type ExecutorContext } from './executor';

/** The repository with its token, from the environments service (never cached past the build). */
export const resolveRepository = (ctx: ExecutorContext, id: string, field: string): Promise<ResolvedSourceRepository> => resolveResource(ctx, 'source-repository', id, field);

/** git's environment: no prompts, the token as an HTTP header (never in a URL or on a command line). */
export function gitEnv(repo: ResolvedSourceRepository): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '/bin/false', LC_ALL: 'C' };
  if (repo.token) {
    // GitHub takes any user name with a token; GitLab wants "oauth2".
    const user = repo.provider === 'GITLAB' ? 'oauth2' : 'x-access-token';
    Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`${user}:${repo.token}`).toString('base64')}` });
  }
  return env;
}

/** The branches of a repository (ls-remote), its default branch first when known. */
export async function listBranches(ctx: ExecutorContext, repo: ResolvedSourceRepository): Promise<{ branch: string; commit: string }[]> {
  const res = await runProcess(ctx.tools.git, ['ls-remote', '--heads', repo.url], { env: gitEnv(repo), signal: ctx.signal, timeoutMs: 60_000 });
  if (res.code !== 0) throw new BuildFailure(`cannot list the branches of ${repo.name} (${repo.url}): ${lastLine(res.stderr)}`);
  return res.stdout
    .split('\n')
    .map((l) => /^([0-9a-f]{40,64})\s+refs\/heads\/(.+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ commit: m[1], branch: m[2] }));
}

/**
 * Checks out `branch` (default: the repository's default branch) at its tip, or at `commit` when
 * given, into `dir` (shallow). A missing branch fails naming the branches there are (first 20).
 */
export async function checkout(ctx: ExecutorContext, repo: ResolvedSourceRepository, dir: string, branch?: string | null, commit?: string | null): Promise<{ branch: string; commit: string }> {
  const want = branch || repo.defaultBranch;
  const env = gitEnv(repo);
  const git = (args: string[]) => runProcess(ctx.tools.git, args, { env, signal: ctx.signal, timeoutMs: 10 * 60_000 });
  await git(['init', '-q', dir]);
  let fetched = await git(['-C', dir, 'fetch', '-q', '--depth', '1', repo.url, commit ?? `refs/heads/${want}`]);
  if (fetched.code !== 0 && commit) fetched = await git(['-C', dir, 'fetch', '-q', repo.url, `refs/heads/${want}`]); // servers that refuse fetching a bare commit
  if (fetched.code !== 0) {
    if (/couldn't find remote ref/i.test(fetched.stderr)) {
      const branches = (await listBranches(ctx, repo)).map((b) => b.branch);
      throw new BuildFailure(`repository ${repo.name} has no branch "${want}"; it has ${branches.slice(0, 20).join(', ')}${branches.length > 20 ? `, ... (${branches.length} in all)` : ''}`);
    }
    throw new BuildFailure(`cannot fetch ${want} of ${repo.name} (${repo.url}): ${lastLine(fetched.stderr)}`);
  }
  const checkedOut = await git(['-C', dir, 'checkout', '-q', commit ?? 'FETCH_HEAD']);
  if (checkedOut.code !== 0) throw new BuildFailure(`cannot check out ${commit ?? want} of ${repo.name}: ${lastLine(checkedOut.stderr)}`);
  const head = await git(['-C', dir, 'rev-parse', 'HEAD']);
  return { branch: want, commit: head.stdout.trim() };
}

export const lastLine = (text: string) => text.trim().split('\n').filter(Boolean).pop() ?? '(no message)';
