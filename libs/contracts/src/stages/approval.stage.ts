import { z } from 'zod';
import { projectRoleSchema } from '../projects';
import { defineStage, optionalText } from './define-stage';

/** One approver: a subject as the identity provider names it (the `sub` claim), never an expression. */
const approverSubject = z
  .string({ invalid_type_error: 'must be a string (a subject, e.g. "alice")' })
  .trim()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .refine((s) => !s.includes('${'), {
    message: "must be a subject, not an expression: approvers are fixed in the pipeline, so a run's parameters cannot choose who approves it",
  });

/**
 * Who may decide the approval, always among the members of the run's project (a platform ADMIN
 * never may, unless the project makes him a member with the needed role):
 * - nothing given: members with APPROVAL_ADMIN;
 * - `role`: members holding that role;
 * - `subjects`: only these subjects, and only while they are members of the project (with `role`
 *   too: only those of them holding it).
 */
export const approversSchema = z
  .object({
    role: projectRoleSchema
      .optional()
      .describe("Members of the run's project holding this role may decide (default APPROVAL_ADMIN when no subjects are listed)."),
    subjects: z
      .array(approverSubject, { invalid_type_error: 'must be a list of subjects, e.g. ["alice", "bob"]' })
      .min(1, 'must list at least one subject (or leave subjects out)')
      .max(100, 'must list at most 100 subjects')
      .refine((s) => new Set(s).size === s.length, { message: 'must not repeat a subject' })
      .optional()
      .describe("Only these subjects (the sign-in's `sub`) may decide, and only while they are members of the run's project; with role, only those of them holding it."),
  }, { invalid_type_error: 'must be an object such as { "role": "APPROVAL_ADMIN" } or { "subjects": ["alice"] }' })
  .strict();
export type Approvers = z.infer<typeof approversSchema>;

export const approvalStage = defineStage({
  type: 'APPROVAL',
  group: 'FEATURE',
  label: 'Approval',
  description:
    "Waits for an approver to approve or stop the run: by default a member of the run's project with the APPROVAL_ADMIN role, or the role or subjects named in approvers; who and when are recorded.",
  config: z
    .object({
      description: optionalText(4096).describe('What is being approved.'),
      message: optionalText(4096).describe('The request message shown to approvers.'),
      approvers: approversSchema
        .optional()
        .describe("Who may decide: a project role, a list of subjects, or both; by default the run's project's APPROVAL_ADMIN members."),
    })
    .strict(),
  references: () => [],
});
