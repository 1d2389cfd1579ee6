import { listBranches, resolveRepository } from './git';
import type { BuildExecutor, BuildResult, ExecutorContext } from './executor';

interface SourceConfig {
  repositoryId: string;
  branch?: string;
}

/** Resolves a repository's branch (default: its default branch) to a commit: the git/commit artifact later stages build. */
async function resolveSource(ctx: ExecutorContext): Promise<BuildResult> {
  const c = ctx.command.config as unknown as SourceConfig;
  const repo = await resolveRepository(ctx, c.repositoryId, 'repositoryId');
  const branch = c.branch || repo.defaultBranch;
  ctx.log.line(`resolving branch ${branch} of ${repo.name} (${repo.url})`);
  const branches = await listBranches(ctx, repo);
  const found = branches.find((b) => b.branch === branch);
  if (!found) {
    const names = branches.map((b) => b.branch);
    return { status: 'FAILED', error: `repository ${repo.name} has no branch "${branch}"; it has ${names.slice(0, 20).join(', ') || 'no branches'}${names.length > 20 ? `, ... (${names.length} in all)` : ''}` };
  }
  ctx.log.line(`${branch} is at ${found.commit}`);
  // `artifact` is what an end condition names to hand the commit to later build stages.
  const artifact = { type: 'git/commit', repositoryId: repo.id, repository: repo.url, branch, commit: found.commit };
  return { status: 'SUCCEEDED', outputs: { ...artifact, artifact } };
}

export const sourceGithubExecutor: BuildExecutor = { type: 'SOURCE_GITHUB', resumable: true, run: resolveSource };
export const sourceGitlabExecutor: BuildExecutor = { type: 'SOURCE_GITLAB', resumable: true, run: resolveSource };

/** The upstream Source stage's commit among the run's artifacts (the last one when several). */
export function upstreamCommit(artifacts: Record<string, unknown>): { repositoryId: string; branch: string; commit: string } | null {
  let found: { repositoryId: string; branch: string; commit: string } | null = null;
  for (const value of Object.values(artifacts)) {
    const v = value as Record<string, unknown> | null;
    if (v && typeof v === 'object' && v.type === 'git/commit' && typeof v.repositoryId === 'string' && typeof v.commit === 'string') {
      found = { repositoryId: v.repositoryId, branch: String(v.branch ?? ''), commit: v.commit };
    }
  }
  return found;
}
