import { formatPath, type TriggerType } from '@pipewright/contracts';
import { DomainError, type FieldProblem } from '@pipewright/platform';
import { Cron } from 'croner';
import { z } from 'zod';

/**
 * A branch, tag, repository or path pattern: a glob (`*` within one path segment, `**` across
 * them, `?` one character), or a regular expression between slashes (`/^release-\d+$/`).
 */
const pattern = z
  .string()
  .min(1, 'must not be empty (use "*" for any)')
  .max(200, 'must be at most 200 characters')
  .superRefine((v, ctx) => {
    if (!isRegex(v)) return;
    try {
      new RegExp(v.slice(1, -1));
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `is not a regular expression: ${(err as Error).message}` });
    }
  });

/** Run parameter name -> template over the event (`${event.head_commit.id}`), checked against the pipeline's parameters. */
const parameters = z.record(z.string().max(2000, 'must be at most 2000 characters')).default({});
const artifactName = (fallback: string) => z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be 1-100 letters, digits, ".", "_" or "-"').default(fallback);
const uuid = (what: string) => z.string().uuid(`must be the id of ${what}`);

export const gitPushConfigSchema = z.object({
  repositoryId: uuid('a source repository of the project'),
  branches: z.array(pattern).min(1).max(50).default(['*']),
  /** Only a push that changes a file matching one of these starts a run (all files when unset). */
  paths: z.array(pattern).max(50).optional(),
  parameters,
  artifactName: artifactName('commit'),
}).strict();

export const gitTagConfigSchema = z.object({
  repositoryId: uuid('a source repository of the project'),
  tags: z.array(pattern).min(1).max(50).default(['*']),
  parameters,
  artifactName: artifactName('commit'),
}).strict();

export const imagePushConfigSchema = z.object({
  registryId: uuid('an image registry of the project'),
  /** The repository within the registry, e.g. `team/app` (a pattern). */
  repository: pattern,
  tag: pattern.default('*'),
  /** Polls the registry's tag list this often, for registries that cannot notify; 0: notifications only. */
  pollIntervalSeconds: z.number().int().min(0).max(86_400).refine((v) => v === 0 || v >= 5, 'must be 0 (off) or at least 5').default(0),
  parameters,
  artifactName: artifactName('image'),
}).strict();

export const cronConfigSchema = z.object({
  /** Five fields, or six with seconds first (`*\/2 * * * * *`). */
  expression: z.string().min(1).max(200),
  timezone: z.string().min(1).max(100).default('UTC'),
  /** Times missed while no instance ran: SKIP them, FIRE_ONCE for all of them (default), or CATCH_UP each (at most catchUpLimit). */
  missedRuns: z.enum(['SKIP', 'FIRE_ONCE', 'CATCH_UP']).default('FIRE_ONCE'),
  catchUpLimit: z.number().int().min(1).max(100).default(10),
  parameters,
}).strict().superRefine((c, ctx) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: c.timezone });
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['timezone'], message: 'is not a time zone (an IANA name, e.g. Europe/Berlin or UTC)' });
    return;
  }
  try {
    new Cron(c.expression, { timezone: c.timezone, paused: true });
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['expression'], message: `is not a cron expression (e.g. "0 */5 * * * *"): ${(err as Error).message}` });
  }
});

export const upstreamStatusSchema = z.enum(['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED']);
export const pipelineConfigSchema = z.object({
  /** The pipeline (of the same project) whose runs' ends start this one. */
  pipelineId: uuid('another pipeline of the project'),
  statuses: z.array(upstreamStatusSchema).min(1).default(['SUCCEEDED']),
  parameters,
}).strict();

export const webhookConfigSchema = z.object({
  /** Each must hold for the payload: the value at `path` (`$.a.b[0]`) equals `equals` and/or matches `pattern`. */
  constraints: z
    .array(
      z.object({
        path: z.string().regex(/^\$(\.[A-Za-z0-9_-]+|\[\d+\])*$/, 'must be a JSON path like $.action or $.release.tag_name or $.items[0].id'),
        equals: z.string().optional(),
        pattern: z.string().max(200).optional(),
      }).strict().superRefine((c, ctx) => {
        if (c.equals === undefined && c.pattern === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'needs equals or pattern' });
        if (c.pattern !== undefined) {
          try {
            new RegExp(c.pattern);
          } catch (err) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['pattern'], message: `is not a regular expression: ${(err as Error).message}` });
          }
        }
      }),
    )
    .max(20)
    .default([]),
  parameters,
}).strict();

export const configSchemas = {
  GIT_PUSH: gitPushConfigSchema,
  GIT_TAG: gitTagConfigSchema,
  IMAGE_PUSH: imagePushConfigSchema,
  CRON: cronConfigSchema,
  PIPELINE: pipelineConfigSchema,
  WEBHOOK: webhookConfigSchema,
} satisfies Record<TriggerType, z.ZodTypeAny>;

export type GitPushConfig = z.infer<typeof gitPushConfigSchema>;
export type GitTagConfig = z.infer<typeof gitTagConfigSchema>;
export type ImagePushConfig = z.infer<typeof imagePushConfigSchema>;
export type CronConfig = z.infer<typeof cronConfigSchema>;
export type PipelineTriggerConfig = z.infer<typeof pipelineConfigSchema>;
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
export type TriggerConfig = GitPushConfig | GitTagConfig | ImagePushConfig | CronConfig | PipelineTriggerConfig | WebhookConfig;

/** Types whose events arrive at a hook URL (and so have a secret). */
export const HOOK_TYPES: readonly TriggerType[] = ['GIT_PUSH', 'GIT_TAG', 'IMAGE_PUSH', 'WEBHOOK'];

/** The config with its defaults, or BAD_USER_INPUT naming each bad field under `field` (e.g. `input.config.branches[0]`). */
export function parseConfig(type: TriggerType, config: unknown, field = 'input.config'): TriggerConfig {
  const result = configSchemas[type].safeParse(config ?? {});
  if (result.success) return result.data as TriggerConfig;
  const at = (path: (string | number)[]) => (!path.length ? field : typeof path[0] === 'number' ? `${field}${formatPath(path)}` : `${field}.${formatPath(path)}`);
  const problems: FieldProblem[] = result.error.issues.map((i) => ({ field: at(i.path), message: i.message }));
  throw DomainError.badInput(problems);
}

function isRegex(p: string): boolean {
  return p.length >= 2 && p.startsWith('/') && p.endsWith('/');
}

/** Whether `value` matches the pattern (see `pattern` above). */
export function matches(p: string, value: string): boolean {
  if (isRegex(p)) return new RegExp(p.slice(1, -1)).test(value);
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i];
    if (ch === '*' && p[i + 1] === '*') {
      // `**/` also matches no directory at all.
      if (p[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(value);
}

export const matchesAny = (patterns: readonly string[], value: string) => patterns.some((p) => matches(p, value));

/** The value at a JSON path like `$.a.b[0]` (undefined when absent). */
export function valueAt(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const m of path.slice(1).matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = m[1] !== undefined ? (cur as Record<string, unknown>)[m[1]] : (cur as unknown[])[Number(m[2])];
  }
  return cur;
}

/**
 * Expands `${a.b.c}` in a template over `scope` (e.g. { event, trigger }). A reference to nothing
 * (or to an object) is an error naming it, so a mapping that no event fills is seen at once.
 */
export function expandTemplate(template: string, scope: Record<string, unknown>): string {
  return template.replace(/\$\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+|\[\d+\])*)\s*\}/g, (_all, ref: string) => {
    const value = valueAt(scope, `$.${ref}`);
    if (value === undefined || value === null) throw new Error(`\${${ref}} is not in the event`);
    if (typeof value === 'object') throw new Error(`\${${ref}} is an object, not a value (name one of its fields)`);
    return String(value);
  });
}

/** The templates' references (for checks at save time): `${event.ref}` -> `event.ref`. */
export function templateRefs(template: string): string[] {
  return [...template.matchAll(/\$\{\s*([^}]*?)\s*\}/g)].map((m) => m[1]);
}
