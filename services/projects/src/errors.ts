import { assertUnreachable, DOMAIN_ERROR_CODES, DomainError, errorCatalogue, sharedGraphQLCode, type GraphQLErrorCode } from '@pipewright/platform';
import { z } from 'zod';

/**
 * Every code a projects error can carry: the shared ones (the platform's helpers throw them) and its own:
 * - SLUG_TAKEN (CONFLICT): another project has this slug;
 * - PROJECT_NOT_EMPTY (CONFLICT): deleteProject while a service holds something of it (without force);
 * - LAST_ADMIN (CONFLICT): the change would leave a project without an ADMIN.
 */
export const projectsErrorCodeSchema = z.enum([...DOMAIN_ERROR_CODES, 'SLUG_TAKEN', 'PROJECT_NOT_EMPTY', 'LAST_ADMIN']);
export type ProjectsErrorCode = z.infer<typeof projectsErrorCodeSchema>;

/** A domain error with one of this service's own codes (the shared ones need no more than DomainError). */
export class ProjectsError extends DomainError<ProjectsErrorCode> {}

/** The GraphQL code of each; a new code that is not mapped here fails the type check. */
export function projectsGraphQLCode(code: ProjectsErrorCode): GraphQLErrorCode {
  switch (code) {
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'FORBIDDEN':
    case 'UNAVAILABLE':
      return sharedGraphQLCode(code);
    case 'SLUG_TAKEN':
    case 'PROJECT_NOT_EMPTY':
    case 'LAST_ADMIN':
      return 'CONFLICT';
    default:
      return assertUnreachable(code, 'projects error code');
  }
}

export const projectsErrors = errorCatalogue('projects', projectsErrorCodeSchema, projectsGraphQLCode);
