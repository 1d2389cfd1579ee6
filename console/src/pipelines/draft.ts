import type { CreatePipelineInput, FailurePolicy, PipelineEditorFieldsFragment, StageGroup, StageType } from '../gql/graphql';
import { initialValue, isObject, stableStringify, type JsonObject, type JsonSchema } from '../ui/schema-form';

/** A stage type as `stageTypes` describes it. */
export interface StageTypeInfo {
  type: StageType;
  group: StageGroup;
  label: string;
  description: string;
  configSchema: JsonSchema;
}

export const STAGE_GROUPS: { group: StageGroup; title: string }[] = [
  { group: 'SOURCE', title: 'Source' },
  { group: 'BUILD', title: 'Build' },
  { group: 'DEPLOYMENT', title: 'Deployment' },
  { group: 'FEATURE', title: 'Feature' },
];

export const FAILURE_POLICIES: { value: FailurePolicy; label: string }[] = [
  { value: 'FAIL_PIPELINE', label: 'Fail the pipeline (FAIL_PIPELINE)' },
  { value: 'STOP_BRANCH', label: 'Stop this branch (STOP_BRANCH)' },
  { value: 'CONTINUE', label: 'Continue (CONTINUE)' },
];

export interface DraftStage {
  refId: string;
  name: string;
  type: StageType;
  dependsOn: string[];
  config: JsonObject;
  /** The condition as typed (JSON); empty for none. */
  startCondition: string;
  endCondition: string;
  failurePolicy: FailurePolicy;
  timeoutSeconds: number | null;
  retryMaxAttempts: number | null;
  retryBackoffSeconds: number | null;
}

export interface DraftParameter {
  name: string;
  label: string;
  description: string;
  default: string;
  required: boolean;
  /** Comma-separated choices as typed; empty for free text. */
  options: string;
}

export interface DraftPipeline {
  name: string;
  description: string;
  maxConcurrentRuns: number | null;
  parameters: DraftParameter[];
  stages: DraftStage[];
}

const conditionText = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v, null, 2));

export function fromPipeline(p: PipelineEditorFieldsFragment): DraftPipeline {
  return {
    name: p.name,
    description: p.description ?? '',
    maxConcurrentRuns: p.maxConcurrentRuns,
    parameters: p.parameters.map((x) => ({
      name: x.name,
      label: x.label ?? '',
      description: x.description ?? '',
      default: x.default ?? '',
      required: x.required,
      options: (x.options ?? []).join(', '),
    })),
    stages: p.stages.map((s) => ({
      refId: s.refId,
      name: s.name,
      type: s.type,
      dependsOn: [...s.dependsOn],
      config: isObject(s.config) ? s.config : {},
      startCondition: conditionText(s.startCondition),
      endCondition: conditionText(s.endCondition),
      failurePolicy: s.failurePolicy,
      timeoutSeconds: s.timeoutSeconds,
      retryMaxAttempts: s.retry?.maxAttempts ?? null,
      retryBackoffSeconds: s.retry?.backoffSeconds ?? null,
    })),
  };
}

/** Problems found before sending (conditions that are not JSON), by field path as the server names them. */
export type LocalProblems = Record<string, string>;

function parseCondition(text: string, field: string, problems: LocalProblems): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    problems[field] = `is not valid JSON: ${(e as Error).message}`;
    return undefined;
  }
}

/** The pipeline as the API takes it; `problems` lists what cannot be sent. */
export function toInput(d: DraftPipeline): { input: CreatePipelineInput; problems: LocalProblems } {
  const problems: LocalProblems = {};
  const input: CreatePipelineInput = {
    name: d.name,
    ...(d.description.trim() !== '' ? { description: d.description } : {}),
    ...(d.maxConcurrentRuns != null ? { maxConcurrentRuns: d.maxConcurrentRuns } : {}),
    parameters: d.parameters.map((p) => {
      const options = p.options
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      return {
        name: p.name,
        ...(p.label.trim() ? { label: p.label } : {}),
        ...(p.description.trim() ? { description: p.description } : {}),
        ...(p.default !== '' ? { default: p.default } : {}),
        required: p.required,
        ...(options.length ? { options } : {}),
      };
    }),
    stages: d.stages.map((s, i) => {
      const startCondition = parseCondition(s.startCondition, `stages.${i}.startCondition`, problems);
      const endCondition = parseCondition(s.endCondition, `stages.${i}.endCondition`, problems);
      // Left out when empty: the API takes no nulls for these.
      return {
        refId: s.refId,
        name: s.name,
        type: s.type,
        dependsOn: s.dependsOn,
        config: s.config,
        ...(startCondition !== undefined ? { startCondition } : {}),
        ...(endCondition !== undefined ? { endCondition } : {}),
        failurePolicy: s.failurePolicy,
        ...(s.timeoutSeconds != null ? { timeoutSeconds: s.timeoutSeconds } : {}),
        ...(s.retryMaxAttempts != null ? { retry: { maxAttempts: s.retryMaxAttempts, ...(s.retryBackoffSeconds != null ? { backoffSeconds: s.retryBackoffSeconds } : {}) } } : {}),
      };
    }),
  };
  return { input, problems };
}

/** Whether two drafts would save the same pipeline. */
export const sameDraft = (a: DraftPipeline, b: DraftPipeline) => stableStringify(normalised(a)) === stableStringify(normalised(b));

function normalised(d: DraftPipeline) {
  const { input } = toInput(d);
  // Unparsable conditions count as changes: keep their text.
  return { input, conditions: d.stages.map((s) => [s.startCondition.trim() && safeParse(s.startCondition), s.endCondition.trim() && safeParse(s.endCondition)]) };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return `invalid:${text}`;
  }
}

/** A refId not used yet, from the type: `webhook`, `webhook-2`, ... */
export function freshRefId(type: string, stages: { refId: string }[]): string {
  const base = type.toLowerCase().replace(/_/g, '-');
  const used = new Set(stages.map((s) => s.refId));
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) if (!used.has(`${base}-${n}`)) return `${base}-${n}`;
}

/** A new stage of the type, after `after` (a refId) or else after the last stage. */
export function newStage(info: StageTypeInfo, stages: DraftStage[], after: string | null): DraftStage {
  const upstream = after && stages.some((s) => s.refId === after) ? after : stages[stages.length - 1]?.refId;
  const config = initialValue(info.configSchema, true);
  return {
    refId: freshRefId(info.type, stages),
    name: info.label,
    type: info.type,
    dependsOn: upstream ? [upstream] : [],
    config: isObject(config) ? config : {},
    startCondition: '',
    endCondition: '',
    failurePolicy: 'FAIL_PIPELINE',
    timeoutSeconds: null,
    retryMaxAttempts: null,
    retryBackoffSeconds: null,
  };
}

/** Removes a stage and every dependency on it. */
export function withoutStage(stages: DraftStage[], refId: string): DraftStage[] {
  return stages.filter((s) => s.refId !== refId).map((s) => (s.dependsOn.includes(refId) ? { ...s, dependsOn: s.dependsOn.filter((d) => d !== refId) } : s));
}

/** Every refId `refId` depends on, directly or through others. */
export function upstreamOf(stages: DraftStage[], refId: string): Set<string> {
  const deps = new Map(stages.map((s) => [s.refId, s.dependsOn]));
  const seen = new Set<string>();
  const stack = [...(deps.get(refId) ?? [])];
  while (stack.length) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(deps.get(next) ?? []));
  }
  return seen;
}

/** Why `target` cannot depend on `source`, or null when it can. */
export function dependencyProblem(stages: DraftStage[], source: string, target: string): string | null {
  if (source === target) return 'a stage cannot depend on itself';
  const t = stages.find((s) => s.refId === target);
  if (!t || !stages.some((s) => s.refId === source)) return 'no such stage';
  if (t.dependsOn.includes(source)) return `"${t.name}" already depends on it`;
  if (upstreamOf(stages, source).has(target)) return 'that would make a cycle';
  return null;
}

/** `target` depends on `source` from now on (no-op when that is not allowed). */
export function withDependency(stages: DraftStage[], source: string, target: string): DraftStage[] {
  if (dependencyProblem(stages, source, target)) return stages;
  return stages.map((s) => (s.refId === target ? { ...s, dependsOn: [...s.dependsOn, source] } : s));
}

export function withoutDependency(stages: DraftStage[], source: string, target: string): DraftStage[] {
  return stages.map((s) => (s.refId === target ? { ...s, dependsOn: s.dependsOn.filter((d) => d !== source) } : s));
}

/** The server's problems, split by where the editor shows them. */
export interface SplitErrors {
  /** name, description, maxConcurrentRuns. */
  pipeline: Record<string, string>;
  /** By parameter index: name, label, default, options, ... */
  parameters: Record<number, Record<string, string>>;
  /** By stage refId, paths relative to the stage: `name`, `config.replicas`, `dependsOn.1`, ... */
  stages: Record<string, Record<string, string>>;
  /** Shown next to Save: nothing else shows them. */
  unclaimed: { field: string; message: string }[];
}

const PIPELINE_FIELDS = new Set(['name', 'description', 'maxConcurrentRuns']);
const PARAMETER_FIELDS = new Set(['name', 'label', 'description', 'default', 'required', 'options']);
const STAGE_FIELD = /^(name|type|dependsOn(\.\d+)?|failurePolicy|timeoutSeconds|retry(\.maxAttempts|\.backoffSeconds)?|startCondition(\..+)?|endCondition(\..+)?|config(\..+)?)$/;

/**
 * Splits `fieldErrors()` output (`stages.2.config.replicas`, `parameters.1.name`, `name`, ...)
 * by the stages sent (their refIds, in the order sent).
 */
export function splitErrors(errors: Record<string, string>, refIds: string[], parameterCount: number): SplitErrors {
  const out: SplitErrors = { pipeline: {}, parameters: {}, stages: {}, unclaimed: [] };
  for (const [field, message] of Object.entries(errors)) {
    if (PIPELINE_FIELDS.has(field)) {
      out.pipeline[field] = message;
      continue;
    }
    const param = /^parameters\.(\d+)\.(.+)$/.exec(field);
    if (param && Number(param[1]) < parameterCount && PARAMETER_FIELDS.has(param[2].replace(/\.\d+$/, ''))) {
      const key = param[2].replace(/\.\d+$/, '');
      (out.parameters[Number(param[1])] ??= {})[key] = message;
      continue;
    }
    const stage = /^stages\.(\d+)\.(.+)$/.exec(field);
    const refId = stage ? refIds[Number(stage[1])] : undefined;
    if (stage && refId !== undefined && STAGE_FIELD.test(stage[2])) {
      (out.stages[refId] ??= {})[stage[2]] = message;
      continue;
    }
    out.unclaimed.push({ field, message });
  }
  return out;
}

/** The errors under `prefix.` (e.g. `config`), with the prefix taken off; `prefix` itself as ''. */
export function errorsUnder(errors: Record<string, string> | undefined, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(errors ?? {})) {
    if (k === prefix) out[''] = v;
    else if (k.startsWith(`${prefix}.`)) out[k.slice(prefix.length + 1)] = v;
  }
  return out;
}
