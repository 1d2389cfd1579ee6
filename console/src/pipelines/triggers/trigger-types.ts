import type { TriggerType } from '../../gql/graphql';
import { initialValue, isObject, type JsonObject, type JsonSchema, type ResourceKind } from '../../ui/schema-form';

/**
 * What the console knows of each trigger type: its name, what it does, and the JSON Schema of its
 * `config` (services/triggers trigger-config.ts), from which SchemaForm draws the create form as
 * it does for stage configs. The API has no `triggerTypes { configSchema }` (yet), so the schemas
 * live here; the server checks every config again and names the field of each problem.
 */
export interface TriggerTypeInfo {
  type: TriggerType;
  label: string;
  description: string;
  /** Whether events arrive at a hook URL (and the trigger has a secret). */
  hook: boolean;
  /** Template examples for the parameters (what the event offers). */
  templates: string[];
}

export const TRIGGER_TYPES: readonly TriggerTypeInfo[] = [
  { type: 'GIT_PUSH', label: 'Git push', description: 'A push to a branch of a source repository (a GitHub or GitLab webhook).', hook: true, templates: ['${git.branch}', '${git.sha}', '${git.pusher}', '${event.ref}', '${event.head_commit.id}'] },
  { type: 'GIT_TAG', label: 'Git tag', description: 'A tag pushed to a source repository (a GitHub or GitLab webhook).', hook: true, templates: ['${git.tag}', '${git.sha}', '${event.ref}'] },
  { type: 'IMAGE_PUSH', label: 'Image push', description: 'An image pushed to a registry (registry notifications, or polling its tags).', hook: true, templates: ['${image.tag}', '${image.digest}', '${image.reference}'] },
  { type: 'CRON', label: 'Schedule (cron)', description: 'A schedule: a cron expression in a time zone.', hook: false, templates: ['${event.scheduledAt}'] },
  { type: 'PIPELINE', label: 'Pipeline', description: 'The end of a run of another pipeline of the project.', hook: false, templates: ['${event.runId}', '${event.status}', '${event.number}'] },
  { type: 'WEBHOOK', label: 'Webhook', description: 'Any HTTP POST with the bearer token, e.g. from a script or another CI system; optional constraints on the JSON payload.', hook: true, templates: ['${event.action}', '${event.release.tag_name}'] },
];

export const triggerTypeInfo = (type: TriggerType): TriggerTypeInfo => TRIGGER_TYPES.find((t) => t.type === type) ?? TRIGGER_TYPES[0];

export const UPSTREAM_STATUSES = ['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED'] as const;
export const MISSED_RUNS = ['SKIP', 'FIRE_ONCE', 'CATCH_UP'] as const;

const PATTERN_HINT = 'Globs (* within a segment, ** across them, ? one character) or a /regular expression/ between slashes.';

const resource = (kind: ResourceKind, description: string): JsonSchema => ({ type: 'string', format: 'uuid', 'x-resource': kind, description });
const patterns = (description: string, extra: Partial<JsonSchema> = {}): JsonSchema => ({ type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, maxItems: 50, description, ...extra });
const parameters: JsonSchema = { type: 'object', additionalProperties: { type: 'string', maxLength: 2000 }, description: 'Run parameters filled from the event, a template each; empty ones are left out.' };
const artifactName = (fallback: string, what: string): JsonSchema => ({ type: 'string', default: fallback, pattern: '^[A-Za-z0-9_.-]{1,100}$', description: `The name of the ${what} artifact the run starts with.` });

const SCHEMAS: Record<TriggerType, JsonSchema> = {
  GIT_PUSH: {
    type: 'object',
    required: ['repositoryId', 'branches'],
    additionalProperties: false,
    properties: {
      repositoryId: resource('SOURCE_REPOSITORY', 'The repository whose pushes start a run; its GitHub or GitLab webhook sends them to the hook URL.'),
      branches: patterns(`Branches whose pushes start a run, e.g. main, release/*. ${PATTERN_HINT}`, { minItems: 1, default: ['*'] }),
      paths: patterns('Only a push that changes a file matching one of these starts a run, e.g. src/**; none: any push.'),
      parameters,
      artifactName: artifactName('commit', 'git/commit'),
    },
  },
  GIT_TAG: {
    type: 'object',
    required: ['repositoryId', 'tags'],
    additionalProperties: false,
    properties: {
      repositoryId: resource('SOURCE_REPOSITORY', 'The repository whose tags start a run; its GitHub or GitLab webhook sends them to the hook URL.'),
      tags: patterns(`Tags that start a run, e.g. v*. ${PATTERN_HINT}`, { minItems: 1, default: ['*'] }),
      parameters,
      artifactName: artifactName('commit', 'git/commit'),
    },
  },
  IMAGE_PUSH: {
    type: 'object',
    required: ['registryId', 'repository', 'tag'],
    additionalProperties: false,
    properties: {
      registryId: resource('IMAGE_REGISTRY', 'The registry whose pushes start a run.'),
      repository: { type: 'string', minLength: 1, maxLength: 200, description: `The repository in the registry, e.g. team/app. ${PATTERN_HINT}` },
      tag: { type: 'string', minLength: 1, maxLength: 200, default: '*', description: 'Tags that start a run, e.g. v* (a glob or a /regular expression/).' },
      pollIntervalSeconds: { type: 'integer', minimum: 0, maximum: 86_400, default: 0, description: 'For registries that cannot send notifications: list the tags this often (at least 5); 0 for notifications only.' },
      parameters,
      artifactName: artifactName('image', 'docker/image'),
    },
  },
  CRON: {
    type: 'object',
    required: ['expression', 'timezone', 'missedRuns'],
    additionalProperties: false,
    properties: {
      expression: { type: 'string', minLength: 1, maxLength: 200, description: 'Five fields (minute hour day month weekday), or six with seconds first: "0 */5 * * * *" is every five minutes, "0 0 3 * * 1-5" 03:00 on weekdays.' },
      timezone: { type: 'string', minLength: 1, maxLength: 100, default: 'UTC', description: 'An IANA time zone, e.g. Europe/Berlin.' },
      missedRuns: { type: 'string', enum: [...MISSED_RUNS], default: 'FIRE_ONCE', description: 'Times missed while Pipewright was down: SKIP them, FIRE_ONCE for all of them, or CATCH_UP each (at most the catch-up limit).' },
      catchUpLimit: { type: 'integer', minimum: 1, maximum: 100, default: 10, description: 'CATCH_UP: at most this many missed times are run.' },
      parameters,
    },
  },
  PIPELINE: {
    type: 'object',
    required: ['pipelineId', 'statuses'],
    additionalProperties: false,
    properties: {
      pipelineId: resource('PIPELINE', 'Another pipeline of the project: each of its runs that ends with one of the statuses starts this pipeline.'),
      statuses: { type: 'array', items: { type: 'string', enum: [...UPSTREAM_STATUSES] }, minItems: 1, default: ['SUCCEEDED'], description: 'How the upstream run must end.' },
      parameters,
    },
  },
  WEBHOOK: {
    type: 'object',
    additionalProperties: false,
    properties: {
      constraints: {
        type: 'array',
        maxItems: 20,
        description: 'Each must hold for the JSON payload to start a run; none: any payload does.',
        items: {
          type: 'object',
          required: ['path'],
          additionalProperties: false,
          properties: {
            path: { type: 'string', minLength: 2, description: 'A JSON path into the payload: $.action, $.release.tag_name, $.items[0].id.' },
            equals: { type: 'string', description: 'The value there must be exactly this.' },
            pattern: { type: 'string', maxLength: 200, description: 'The value there must match this regular expression (e.g. ^v).' },
          },
        },
      },
      parameters,
    },
  },
};

/** Labels that differ from the humanised property names. */
export const CONFIG_LABELS: Record<string, string> = { catchUpLimit: 'Catch-up limit', timezone: 'Time zone', pollIntervalSeconds: 'Poll interval (seconds)' };

/** The config form's schema for the value as it is (a CRON catch-up limit only with CATCH_UP). */
export function configSchema(type: TriggerType, config: unknown): JsonSchema {
  const schema = SCHEMAS[type];
  if (type !== 'CRON' || (isObject(config) && config.missedRuns === 'CATCH_UP')) return schema;
  const { catchUpLimit: _unused, ...properties } = schema.properties!;
  void _unused;
  return { ...schema, properties };
}

/** A new trigger's config: the type's defaults. */
export const initialConfig = (type: TriggerType): JsonObject => initialValue(SCHEMAS[type], true) as JsonObject;

/** What is sent as `config`: without what the form shows nothing for (a catch-up limit without CATCH_UP) and without empty templates. */
export function configToSend(type: TriggerType, config: JsonObject): JsonObject {
  const out: JsonObject = { ...config };
  if (type === 'CRON' && out.missedRuns !== 'CATCH_UP') delete out.catchUpLimit;
  if (isObject(out.parameters)) {
    const kept = Object.fromEntries(Object.entries(out.parameters).filter(([k, v]) => k !== '' && typeof v === 'string' && v.trim() !== ''));
    if (Object.keys(kept).length) out.parameters = kept;
    else delete out.parameters;
  }
  return out;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const list = (v: string[]) => v.join(', ');

/** A resource's name by id, when the console has it (the picker's list); else undefined. */
export type NameOf = (kind: ResourceKind, id: string) => string | undefined;

/** A short line saying what the trigger reacts to, e.g. "branches main, release/* of app-repo". */
export function describeConfig(type: TriggerType, config: unknown, nameOf: NameOf = () => undefined): string {
  const c = isObject(config) ? config : {};
  const named = (kind: ResourceKind, id: unknown, what: string) => (typeof id === 'string' ? (nameOf(kind, id) ?? `${what} ${id.slice(0, 8)}`) : `no ${what}`);
  const params = isObject(c.parameters) ? Object.keys(c.parameters) : [];
  const withParams = (s: string) => (params.length ? `${s}; sets ${list(params)}` : s);
  switch (type) {
    case 'GIT_PUSH': {
      const paths = strings(c.paths);
      return withParams(`branches ${list(strings(c.branches).length ? strings(c.branches) : ['*'])} of ${named('SOURCE_REPOSITORY', c.repositoryId, 'repository')}${paths.length ? `, changing ${list(paths)}` : ''}`);
    }
    case 'GIT_TAG':
      return withParams(`tags ${list(strings(c.tags).length ? strings(c.tags) : ['*'])} of ${named('SOURCE_REPOSITORY', c.repositoryId, 'repository')}`);
    case 'IMAGE_PUSH': {
      const poll = typeof c.pollIntervalSeconds === 'number' && c.pollIntervalSeconds > 0 ? `, polled every ${c.pollIntervalSeconds} s` : '';
      return withParams(`${text(c.repository) ?? '?'}:${text(c.tag) ?? '*'} in ${named('IMAGE_REGISTRY', c.registryId, 'registry')}${poll}`);
    }
    case 'CRON': {
      const missed = text(c.missedRuns) ?? 'FIRE_ONCE';
      return withParams(`${text(c.expression) ?? '?'} (${text(c.timezone) ?? 'UTC'}), missed runs ${missed}${missed === 'CATCH_UP' && typeof c.catchUpLimit === 'number' ? ` (at most ${c.catchUpLimit})` : ''}`);
    }
    case 'PIPELINE':
      return withParams(`after ${named('PIPELINE', c.pipelineId, 'pipeline')} ends ${list(strings(c.statuses).length ? strings(c.statuses) : ['SUCCEEDED'])}`);
    case 'WEBHOOK': {
      const constraints = (Array.isArray(c.constraints) ? c.constraints : []).filter(isObject);
      if (!constraints.length) return withParams('any JSON payload');
      return withParams(
        `payloads where ${constraints
          .map((k) => [text(k.equals) !== undefined ? `${String(k.path)} = "${String(k.equals)}"` : null, text(k.pattern) !== undefined ? `${String(k.path)} ~ /${String(k.pattern)}/` : null].filter(Boolean).join(' and '))
          .join(', ')}`,
      );
    }
  }
}

/** A distribution registry's `notifications.endpoints` entry for the hook (config.yml). */
export function registryNotificationYaml(hookUrl: string, secret: string): string {
  return [
    'notifications:',
    '  endpoints:',
    '    - name: pipewright',
    `      url: ${hookUrl}`,
    '      headers:',
    `        Authorization: [Bearer ${secret}]`,
    '      timeout: 5s',
    '      threshold: 5',
    '      backoff: 10s',
    '      ignoredmediatypes: [application/octet-stream]',
  ].join('\n');
}

/** A generic webhook call with the bearer token. */
export function webhookCurl(hookUrl: string, secret: string): string {
  return [`curl -X POST '${hookUrl}' \\`, `  -H 'Authorization: Bearer ${secret}' \\`, `  -H 'Content-Type: application/json' \\`, `  -d '{"action": "published"}'`].join('\n');
}

/** The secret where it is not shown (after creation): a placeholder in the instructions. */
export const SECRET_PLACEHOLDER = '<secret>';
