import type { BuildStart } from '@pipewright/contracts';
import { bakeExecutor } from './bake.executor';
import type { BuildExecutor } from './executor';
import { hostedExecutor } from './hosted.executor';
import { jenkinsExecutor } from './jenkins.executor';
import { sourceGithubExecutor, sourceGitlabExecutor } from './source.executor';

const registered: BuildExecutor[] = [sourceGithubExecutor, sourceGitlabExecutor, hostedExecutor, jenkinsExecutor, bakeExecutor];

const byType = new Map<string, BuildExecutor>();
for (const e of registered) {
  if (byType.has(e.type)) throw new Error(`build executor ${e.type} is registered twice`);
  byType.set(e.type, e);
}

/** The executor of a build stage type (every BUILD_STAGE_TYPES member has one). */
export function executorFor(type: BuildStart['stageType']): BuildExecutor {
  const e = byType.get(type);
  if (!e) throw new Error(`no build executor for ${type} (known: ${[...byType.keys()].join(', ')})`);
  return e;
}
