import { DEFAULT_PROJECT_ID, isUuid, type Identity } from '@pipewright/contracts';
import type { MessageBus } from '@pipewright/messaging';
import { DomainError } from './domain-error';

/**
 * Before something is created in a project: a member's project exists (the gateway signed it from
 * the projects service), and so does `default`; for anyone else (a platform ADMIN) the projects
 * service is asked, so nothing is created in a project that does not exist.
 */
export async function assertProjectExists(bus: MessageBus, identity: Identity, projectId: string, field = 'input.projectId'): Promise<void> {
  if (projectId === DEFAULT_PROJECT_ID || identity.projects?.some((m) => m.projectId === projectId)) return;
  if (!isUuid(projectId)) throw DomainError.badInput([{ field, message: `must be a project id (got "${projectId}")` }]);
  let exists: boolean;
  try {
    ({ exists } = await bus.request('rpc.projects.project.exists', { projectId }, { timeoutMs: 5000 }));
  } catch {
    throw new DomainError('UNAVAILABLE', `cannot check that project ${projectId} exists: the projects service did not answer; retry shortly`, { field });
  }
  if (!exists) throw DomainError.badInput([{ field, message: `names no project (${projectId}): see projects() for the ids` }]);
}
