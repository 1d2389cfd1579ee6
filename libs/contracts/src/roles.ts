import { z } from 'zod';

/** Roles of ARCHITECTURE section 7. ADMIN may do everything except decide approvals. */
export const Role = {
  VIEWER: 'VIEWER',
  DEVELOPER: 'DEVELOPER',
  ADMIN: 'ADMIN',
  APPROVAL_ADMIN: 'APPROVAL_ADMIN',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const roleSchema = z.enum([Role.VIEWER, Role.DEVELOPER, Role.ADMIN, Role.APPROVAL_ADMIN]);

/** The caller, as the gateway forwards it to the subgraphs. */
export const identitySchema = z.object({
  sub: z.string().min(1),
  name: z.string().optional(),
  roles: z.array(roleSchema),
});
export type Identity = z.infer<typeof identitySchema>;
