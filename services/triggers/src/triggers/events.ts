import type { TriggerType } from '@pipewright/contracts';
import {
  expandTemplate,
  matchesAny,
  matches,
  valueAt,
  type CronConfig,
  type GitPushConfig,
  type GitTagConfig,
  type ImagePushConfig,
  type PipelineTriggerConfig,
  type TriggerConfig,
  type WebhookConfig,
} from './trigger-config';

/** What a delivery carries, as stored. */
export interface StoredEvent {
  /** push, tag_push, image_push, schedule, pipeline, webhook, ping ... */
  event: string;
  payload: unknown;
}

export interface TriggerView {
  id: string;
  name: string;
  type: TriggerType;
  config: TriggerConfig;
}

/** What a delivery comes to: a run to start, or why not. */
export type Interpretation =
  | { start: true; parameters: Record<string, string>; artifacts: Record<string, unknown>; summary: string }
  | { start: false; outcome: 'IGNORED' | 'REJECTED'; reason: string };

const ZERO_SHA = /^0+$/;
const ignored = (reason: string): Interpretation => ({ start: false, outcome: 'IGNORED', reason });
const rejected = (reason: string): Interpretation => ({ start: false, outcome: 'REJECTED', reason });
const short = (sha: string) => sha.slice(0, 7);
const rec = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** A GitHub or GitLab push (of a branch or a tag), in the terms both share. */
export interface GitPush {
  provider: 'GITHUB' | 'GITLAB';
  kind: 'branch' | 'tag';
  /** The branch or tag name (without refs/heads/ or refs/tags/). */
  name: string;
  ref: string;
  /** The commit pushed; null for a deletion. */
  sha: string | null;
  deleted: boolean;
  pusher: string;
  repositoryUrl: string | null;
  message: string | null;
  /** Files added, modified or removed by the pushed commits. */
  paths: string[];
}

/** The push in a GitHub `push` or GitLab `Push Hook`/`Tag Push Hook` payload; null when the payload is not one. */
export function gitPushOf(payload: unknown): GitPush | null {
  const p = rec(payload);
  const ref = str(p.ref);
  if (!ref) return null;
  const kind = ref.startsWith('refs/heads/') ? 'branch' : ref.startsWith('refs/tags/') ? 'tag' : null;
  if (!kind) return null;
  const name = ref.slice(kind === 'branch' ? 'refs/heads/'.length : 'refs/tags/'.length);
  const gitlab = 'object_kind' in p || 'project' in p;
  const after = str(p.after) ?? '';
  const commits = Array.isArray(p.commits) ? p.commits.map(rec) : [];
  const paths = [...new Set(commits.flatMap((c) => ['added', 'modified', 'removed'].flatMap((k) => (Array.isArray(c[k]) ? (c[k] as unknown[]).filter((x): x is string => typeof x === 'string') : []))))];
  if (gitlab) {
    const project = rec(p.project);
    const deleted = ZERO_SHA.test(after) || p.checkout_sha === null;
    const head = commits.find((c) => c.id === after) ?? commits.at(-1);
    return {
      provider: 'GITLAB',
      kind,
      name,
      ref,
      sha: deleted ? null : (str(p.checkout_sha) ?? after),
      deleted,
      pusher: str(p.user_username) ?? str(p.user_name) ?? 'someone',
      repositoryUrl: str(project.git_http_url) ?? null,
      message: str(head?.message) ?? null,
      paths,
    };
  }
  const repo = rec(p.repository);
  const head = rec(p.head_commit);
  const deleted = p.deleted === true || ZERO_SHA.test(after);
  return {
    provider: 'GITHUB',
    kind,
    name,
    ref,
    sha: deleted ? null : (str(head.id) ?? after),
    deleted,
    pusher: str(rec(p.pusher).name) ?? str(rec(p.sender).login) ?? 'someone',
    repositoryUrl: str(repo.clone_url) ?? null,
    message: str(head.message) ?? null,
    paths,
  };
}

/** The trigger's parameter templates expanded over `scope`; REJECTED naming the parameter when one cannot be. */
function mapParameters(templates: Record<string, string>, scope: Record<string, unknown>): Record<string, string> | Interpretation {
  const out: Record<string, string> = {};
  for (const [name, template] of Object.entries(templates)) {
    try {
      out[name] = expandTemplate(template, scope);
    } catch (err) {
      return rejected(`parameter "${name}" (${template}): ${(err as Error).message}; fix the trigger's config.parameters.${name}`);
    }
  }
  return out;
}

function started(templates: Record<string, string>, scope: Record<string, unknown>, artifacts: Record<string, unknown>, summary: string): Interpretation {
  const parameters = mapParameters(templates, scope);
  if ('start' in parameters) return parameters as Interpretation;
  return { start: true, parameters: parameters as Record<string, string>, artifacts, summary: summary.slice(0, 500) };
}

function fromGit(trigger: TriggerView, stored: StoredEvent, config: GitPushConfig | GitTagConfig): Interpretation {
  if (stored.event === 'ping') return ignored('a ping (the provider checking the hook): nothing to start');
  // Only pushes (GitHub's `push`; GitLab's push and tag push hooks): other events may carry a ref too.
  if (stored.event !== 'push' && stored.event !== 'tag_push') return ignored(`a "${stored.event}" event: this trigger starts on pushes (send only push events to its hook)`);
  const push = gitPushOf(stored.payload);
  if (!push) return ignored(`a "${stored.event}" event is not a push of a branch or a tag`);
  const wanted = trigger.type === 'GIT_PUSH' ? 'branch' : 'tag';
  if (push.kind !== wanted) return ignored(`a push of ${push.kind} "${push.name}": this trigger starts on ${wanted} pushes`);
  if (push.deleted) return ignored(`${push.kind} "${push.name}" was deleted: a deletion starts nothing`);
  const patterns = trigger.type === 'GIT_PUSH' ? (config as GitPushConfig).branches : (config as GitTagConfig).tags;
  if (!matchesAny(patterns, push.name)) return ignored(`${push.kind} "${push.name}" matches none of ${patterns.map((p) => `"${p}"`).join(', ')}`);
  const paths = trigger.type === 'GIT_PUSH' ? (config as GitPushConfig).paths : undefined;
  if (paths?.length && !push.paths.some((f) => matchesAny(paths, f))) {
    return ignored(`no changed file matches the path filters ${paths.map((p) => `"${p}"`).join(', ')} (changed: ${push.paths.slice(0, 10).join(', ') || 'none listed'})`);
  }
  const commit = { type: 'git/commit', repositoryId: config.repositoryId, repository: push.repositoryUrl, branch: push.kind === 'branch' ? push.name : '', tag: push.kind === 'tag' ? push.name : undefined, commit: push.sha };
  const summary = `${push.kind === 'tag' ? `tag ${push.name}` : `push to ${push.name}`} by ${push.pusher}: ${short(push.sha!)}${push.message ? ` ${push.message.split('\n')[0]}` : ''}`;
  const scope = { event: stored.payload, trigger: { id: trigger.id, name: trigger.name, type: trigger.type }, git: { ...push, sha: push.sha, branch: commit.branch, tag: commit.tag ?? '' } };
  return started(config.parameters, scope, { [config.artifactName]: commit }, summary);
}

/** One event of a distribution registry notification (`events[]`), as stored. */
export interface RegistryEvent {
  id: string;
  action: string;
  target: { repository: string; tag?: string; digest: string; mediaType?: string };
  /** The registry host the trigger's image registry is reached at (host[:port]); set when the delivery is processed. */
  registryHost?: string;
}

function fromImage(trigger: TriggerView, stored: StoredEvent, config: ImagePushConfig, registryHost: string): Interpretation {
  const e = rec(stored.payload) as unknown as RegistryEvent;
  const target = rec(e.target);
  const repository = str(target.repository);
  const tag = str(target.tag);
  const digest = str(target.digest);
  if (e.action !== 'push' || !repository || !digest) return ignored(`a registry "${String(e.action)}" event is not the push of an image`);
  if (!tag) return ignored(`a push of ${repository}@${digest} without a tag`);
  if (!matches(config.repository, repository)) return ignored(`repository "${repository}" does not match "${config.repository}"`);
  if (!matches(config.tag, tag)) return ignored(`tag "${tag}" of ${repository} does not match "${config.tag}"`);
  const reference = `${registryHost}/${repository}:${tag}@${digest}`;
  const image = { type: 'docker/image', registryId: config.registryId, reference, repository, tag, digest };
  const scope = { event: stored.payload, trigger: { id: trigger.id, name: trigger.name, type: trigger.type }, image };
  return started(config.parameters, scope, { [config.artifactName]: image }, `image ${repository}:${tag} pushed: ${digest.slice(0, 19)}`);
}

/** What a CRON delivery holds. */
export interface ScheduleEvent {
  scheduledAt: string;
  firedAt: string;
  /** How many times were missed (while no instance ran) and this one fires for. */
  missed: number;
  /** The instance (leader) that fired it. */
  firedBy?: string;
}

function fromSchedule(trigger: TriggerView, stored: StoredEvent, config: CronConfig): Interpretation {
  const e = rec(stored.payload) as unknown as ScheduleEvent;
  const late = e.missed > 0 ? ` (catch-up: ${e.missed} time(s) missed while Pipewright was down, ${config.missedRuns})` : '';
  const scope = { event: stored.payload, trigger: { id: trigger.id, name: trigger.name, type: trigger.type } };
  return started(config.parameters, scope, {}, `schedule "${config.expression}" (${config.timezone}) at ${e.scheduledAt}${late}`);
}

/** What a PIPELINE delivery holds: the upstream run's end. */
export interface UpstreamEvent {
  runId: string;
  pipelineId: string;
  pipelineName?: string;
  number: number;
  status: string;
}

function fromUpstream(trigger: TriggerView, stored: StoredEvent, config: PipelineTriggerConfig): Interpretation {
  const e = rec(stored.payload) as unknown as UpstreamEvent;
  const name = e.pipelineName ? `"${e.pipelineName}"` : e.pipelineId;
  if (!(config.statuses as string[]).includes(e.status)) return ignored(`run #${e.number} of pipeline ${name} ended ${e.status}; this trigger starts on ${config.statuses.join(', ')}`);
  const scope = { event: stored.payload, trigger: { id: trigger.id, name: trigger.name, type: trigger.type } };
  return started(config.parameters, scope, {}, `pipeline ${name} run #${e.number} ${e.status}`);
}

function fromWebhook(trigger: TriggerView, stored: StoredEvent, config: WebhookConfig): Interpretation {
  for (const c of config.constraints) {
    const value = valueAt(stored.payload, c.path);
    const text = value === undefined || value === null ? undefined : typeof value === 'object' ? JSON.stringify(value) : String(value);
    if (text === undefined) return ignored(`constraint ${c.path}: the payload has no value there`);
    if (c.equals !== undefined && text !== c.equals) return ignored(`constraint ${c.path}: "${text.slice(0, 100)}" is not "${c.equals}"`);
    if (c.pattern !== undefined && !new RegExp(c.pattern).test(text)) return ignored(`constraint ${c.path}: "${text.slice(0, 100)}" does not match /${c.pattern}/`);
  }
  const scope = { event: stored.payload, trigger: { id: trigger.id, name: trigger.name, type: trigger.type } };
  return started(config.parameters, scope, {}, `webhook delivery`);
}

/** What the delivery means for the trigger. `registryHost` is needed for IMAGE_PUSH only. */
export function interpret(trigger: TriggerView, stored: StoredEvent, context: { registryHost?: string } = {}): Interpretation {
  switch (trigger.type) {
    case 'GIT_PUSH':
    case 'GIT_TAG':
      return fromGit(trigger, stored, trigger.config as GitPushConfig);
    case 'IMAGE_PUSH':
      return fromImage(trigger, stored, trigger.config as ImagePushConfig, context.registryHost ?? 'registry');
    case 'CRON':
      return fromSchedule(trigger, stored, trigger.config as CronConfig);
    case 'PIPELINE':
      return fromUpstream(trigger, stored, trigger.config as PipelineTriggerConfig);
    case 'WEBHOOK':
      return fromWebhook(trigger, stored, trigger.config as WebhookConfig);
  }
}
