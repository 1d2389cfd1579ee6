import { assertProjectAccess, projectOrDefault, readableProjects } from '@pipewright/auth';
import { isUuid, type Identity } from '@pipewright/contracts';
import { DomainError } from '@pipewright/platform';

/** What a runs list is narrowed to: one project (checked), or the projects the caller may read. */
export type ProjectScope = { projectId: string } | { readable: 'all' | string[] };

/**
 * The projects a list of runs or builds covers: the one given or, without one, every project the
 * caller may read when a parent (pipelineId, runId) narrows the list, else the default project.
 */
export function projectScope(identity: Identity, projectId: string | null | undefined, narrowedByParent: boolean, what: string): ProjectScope {
  if (!projectId && narrowedByParent) return { readable: readableProjects(identity) };
  const id = projectOrDefault(projectId);
  if (!isUuid(id)) throw DomainError.badInput([{ field: 'projectId', message: `must be a project id (got "${id}")` }]);
  assertProjectAccess(identity, id, 'read', what);
  return { projectId: id };
}
