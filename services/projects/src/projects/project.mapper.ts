import type { ApiTokenEntity } from '../api-tokens/api-token.entity';
import { ApiToken } from '../api-tokens/api-token.model';
import type { ProjectMemberEntity } from '../members/member.entity';
import { ProjectMember } from '../members/member.model';
import type { ProjectEntity } from './project.entity';
import { Project } from './project.model';

/** Entities to GraphQL types (kept apart: a column never becomes a field by accident). */
export function toProject(e: ProjectEntity): Project {
  return Object.assign(new Project(), {
    id: e.id,
    slug: e.slug,
    name: e.name,
    description: e.description,
    createdAt: e.createdAt,
    createdBy: e.createdBy,
    updatedAt: e.updatedAt,
    updatedBy: e.updatedBy,
  });
}

export function toMember(e: ProjectMemberEntity): ProjectMember {
  return Object.assign(new ProjectMember(), { subject: e.subject, roles: e.roles, addedBy: e.addedBy, addedAt: e.addedAt, updatedAt: e.updatedAt });
}

export function toApiToken(e: ApiTokenEntity): ApiToken {
  return Object.assign(new ApiToken(), {
    id: e.id,
    projectId: e.projectId,
    name: e.name,
    roles: e.roles,
    createdBy: e.createdBy,
    createdAt: e.createdAt,
    expiresAt: e.expiresAt,
    lastUsedAt: e.lastUsedAt,
    revokedAt: e.revokedAt,
  });
}

/** A connection with its nodes mapped. */
export function mapConnection<A, B>(page: { edges: { cursor: string; node: A }[]; pageInfo: unknown; totalCount: number }, map: (a: A) => B) {
  return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: map(e.node) })) };
}
