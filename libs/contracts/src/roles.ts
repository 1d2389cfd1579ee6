import { z } from 'zod';

/**
 * Roles of ARCHITECTURE section 7. In a project: VIEWER (read), DEVELOPER (edit and run
 * pipelines, judge), ADMIN (project admin: environment settings, members, API tokens, everything
 * but approvals), APPROVAL_ADMIN (decide approvals; reads). Platform-wide, only ADMIN means
 * anything: everything in every project, except approvals.
 */
export const Role = {
  VIEWER: 'VIEWER',
  DEVELOPER: 'DEVELOPER',
  ADMIN: 'ADMIN',
  APPROVAL_ADMIN: 'APPROVAL_ADMIN',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const roleSchema = z.enum([Role.VIEWER, Role.DEVELOPER, Role.ADMIN, Role.APPROVAL_ADMIN], {
  errorMap: () => ({ message: 'must be VIEWER, DEVELOPER, ADMIN or APPROVAL_ADMIN' }),
});

/** The caller, as the gateway forwards it to the subgraphs (signed). */
export const identitySchema = z.object({
  sub: z.string().min(1),
  name: z.string().optional(),
  /** Platform roles (from the token's `roles` claim or the identity provider's groups). */
  roles: z.array(roleSchema),
  /**
   * The caller's project memberships, resolved once per request by the gateway from the projects
   * service (and the provider's groups), so no service asks per field. An API token carries exactly
   * its one project and roles.
   */
  projects: z
    .array(z.object({ projectId: z.string().uuid(), slug: z.string(), roles: z.array(roleSchema) }))
    .default([]),
  /** How the caller signed in: a person's (or script's) OpenID token, an API token, or the platform itself. */
  via: z.enum(['oidc', 'api-token', 'system']).default('oidc'),
  /** The API token's id when via is api-token. */
  tokenId: z.string().optional(),
});
export type Identity = z.infer<typeof identitySchema>;
/** An identity as code builds it: memberships and `via` may be left out. */
export type IdentityInput = z.input<typeof identitySchema>;
