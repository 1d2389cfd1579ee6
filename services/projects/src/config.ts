import { serviceConfigSchema } from '@pipewright/platform';
import { z } from 'zod';
import { parseMembersBootstrap } from './members/members-bootstrap';

/** The projects service's environment variables (validated at boot). */
export const configSchema = serviceConfigSchema.extend({
  /**
   * Members of the project `default` made at boot when they are not members yet (an existing
   * membership is never changed): `subject=ROLE[+ROLE...]`, comma-separated, e.g.
   * `developer=DEVELOPER,ops=DEVELOPER+APPROVAL_ADMIN`.
   */
  PROJECT_MEMBERS_BOOTSTRAP: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parseMembersBootstrap(v ?? '');
      } catch (err) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** How long deleteProject waits for each service to say what it holds of the project. */
  PROJECTS_USAGE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
});
export type Config = z.infer<typeof configSchema>;
