import type { BuildStart } from '@pipewright/contracts';
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
  // Build and Bake stages downstream get the commit from these outputs (the executions service
  // sends the nearest upstream Source's); `artifact` is what an end condition names to make it a run artifact.
  const artifact = { type: 'git/commit', repositoryId: repo.id, repository: repo.url, branch, commit: found.commit };
  return { status: 'SUCCEEDED', outputs: { ...artifact, artifact } };
}

export const sourceGithubExecutor: BuildExecutor = { type: 'SOURCE_GITHUB', resumable: true, run: resolveSource };
export const sourceGitlabExecutor: BuildExecutor = { type: 'SOURCE_GITLAB', resumable: true, run: resolveSource };

/** A git/commit run artifact (an end condition made one of a Source stage's `artifact`), the last one when several. */
export function upstreamCommit(artifacts: Record<string, unknown>): { artifact: string; repositoryId: string; branch: string; commit: string } | null {
  let found: { artifact: string; repositoryId: string; branch: string; commit: string } | null = null;
  for (const [name, value] of Object.entries(artifacts)) {
    const v = value as Record<string, unknown> | null;
    if (v && typeof v === 'object' && v.type === 'git/commit' && typeof v.repositoryId === 'string' && typeof v.commit === 'string') {
      found = { artifact: name, repositoryId: v.repositoryId, branch: String(v.branch ?? ''), commit: v.commit };
    }
  }
  return found;
}

/** What a build checks out, and the config field (or Source stage) to fix when its repository is gone. */
export interface WantedSource {
  repositoryId: string;
  field: string;
  /** Unset: the repository's default branch. */
  branch?: string;
  /** Unset: the tip of the branch. */
  commit?: string;
  /** The Source stage whose commit this is. */
  refId?: string;
  /** The run artifact this came from. */
  artifact?: string;
}

/**
 * What a build stage builds: the repository (and branch) its config names; else the commit of the
 * nearest upstream Source stage (the executions service finds it in the graph); else a git/commit
 * run artifact (for commands from before `source`, or a Source stage that is not upstream). Null
 * when there is none.
 */
export function buildSource(command: BuildStart, repositoryId: string | undefined, branch: string | undefined): WantedSource | null {
  if (repositoryId) return { repositoryId, field: 'repositoryId', branch: branch || undefined };
  const s = command.source;
  if (s) return { repositoryId: s.repositoryId, field: `the repositoryId of Source stage ${s.refId}`, branch: s.branch || undefined, commit: s.commit, refId: s.refId };
  const a = upstreamCommit(command.artifacts);
  if (a) return { repositoryId: a.repositoryId, field: `the git/commit artifact ${a.artifact}`, branch: a.branch || undefined, commit: a.commit, artifact: a.artifact };
  return null;
}
