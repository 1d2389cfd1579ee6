import { z } from 'zod';
import { roleSchema } from './roles';

/**
 * The project named `default`: it exists from the first start (the projects service's first
 * migration creates it with this id) and holds everything created before projects existed, and
 * everything created without a `projectId`. Every service migrates its old rows into it by this id.
 */
export const DEFAULT_PROJECT_ID = '00000000-0000-4000-8000-000000000001';
export const DEFAULT_PROJECT_SLUG = 'default';

/** Roles a member holds in one project (ARCHITECTURE section 7). */
export const projectRoleSchema = roleSchema;
export type ProjectRole = z.infer<typeof projectRoleSchema>;

/** A project's URL-safe name: lower-case letters, digits and "-", 2-63 characters. */
export const projectSlugSchema = z
  .string({ required_error: 'is required' })
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1-63 lower-case letters, digits or "-", starting and ending with a letter or digit (e.g. "payments")');

/** One membership of the caller, as the gateway signs it into the forwarded identity. */
export const membershipSchema = z.object({
  projectId: z.string().uuid(),
  slug: z.string(),
  roles: z.array(projectRoleSchema),
});
export type Membership = z.infer<typeof membershipSchema>;

/**
 * `rpc.projects.memberships`: the projects a subject belongs to, merged with the project roles its
 * identity provider's groups grant (`groupRoles`: slug and roles, from the gateway's mapping).
 */
export const membershipsRequestSchema = z.object({
  sub: z.string().min(1),
  groupRoles: z.array(z.object({ slug: z.string(), roles: z.array(projectRoleSchema) })).default([]),
});
export const membershipsReplySchema = z.object({ memberships: z.array(membershipSchema) });

/** `rpc.projects.api-token.verify`: an API token presented at the gateway (records its use). */
export const apiTokenVerifyRequestSchema = z.object({ token: z.string().min(1).max(512) });
export const apiTokenVerifyReplySchema = z.discriminatedUnion('valid', [
  z.object({
    valid: z.literal(true),
    tokenId: z.string().uuid(),
    name: z.string(),
    projectId: z.string().uuid(),
    slug: z.string(),
    roles: z.array(projectRoleSchema),
    createdBy: z.string(),
  }),
  z.object({ valid: z.literal(false), reason: z.string() }),
]);

/** `rpc.<service>.project.usage`: how much of a project a service holds (delete protection). */
export const projectUsageRequestSchema = z.object({ projectId: z.string().uuid() });
export const projectUsageReplySchema = z.object({
  service: z.string(),
  /** Counts by what they are, e.g. { pipelines: 3 }; empty or all zero when the project holds nothing here. */
  counts: z.record(z.number().int().min(0)),
});

/** API tokens are `pwt_` followed by 43 base64url characters; the gateway tells them from JWTs by the prefix. */
export const API_TOKEN_PREFIX = 'pwt_';

const isoDate = z.string().datetime({ offset: true });

export const projectChangedSchema = z.object({
  id: z.string().uuid(),
  slug: z.string(),
  change: z.enum(['created', 'updated', 'deleted']),
  by: z.string().min(1),
  at: isoDate,
});
export const memberChangedSchema = z.object({
  projectId: z.string().uuid(),
  subject: z.string().min(1),
  /** The roles now held; empty when the member was removed. */
  roles: z.array(projectRoleSchema),
  by: z.string().min(1),
  at: isoDate,
});
export const apiTokenChangedSchema = z.object({
  id: z.string().uuid(),
  projectId: z.string().uuid(),
  change: z.enum(['created', 'revoked']),
  by: z.string().min(1),
  at: isoDate,
});
