import {
  endConditionSchema,
  formatPath,
  isStageType,
  pipelineDocumentSchema,
  stageDefinition,
  stageTypes,
  startConditionSchema,
  type PipelineDocument,
  type StageReference,
} from '@pipewright/contracts';
import type { FieldProblem } from '@pipewright/platform';
import type { z } from 'zod';

/** The largest pipeline document accepted (JSON), in bytes. */
export const MAX_DOCUMENT_BYTES = 2 * 1024 * 1024;

export interface LocatedReference extends StageReference {
  /** Where it is, e.g. `stages[2].config.targetId`. */
  field: string;
}

export interface ValidationOutcome {
  /** The normalized document (defaults filled in), when there are no problems. */
  document: PipelineDocument | null;
  problems: FieldProblem[];
  references: LocatedReference[];
}

const join = (prefix: string, path: (string | number)[]) => {
  const rest = formatPath(path);
  if (!rest) return prefix;
  return rest.startsWith('[') ? `${prefix}${rest}` : `${prefix}.${rest}`;
};

function issues(prefix: string, error: z.ZodError): FieldProblem[] {
  return error.issues.map((i) => ({
    field: join(prefix, i.path),
    message: i.code === 'invalid_type' && i.received === 'undefined' ? (i.message === 'Required' ? 'is required' : i.message) : i.code === 'unrecognized_keys' ? `has unknown field(s) ${i.keys.join(', ')}` : i.message,
  }));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks everything about a pipeline that needs nothing but the document, and reports all problems
 * at once, each with its path: structure, each stage's config against its type's schema,
 * conditions, unique refIds, known dependsOn, no cycles (named), preconditions upstream of their
 * judgement, parameters. Environment resources and other pipelines are checked by the caller.
 */
export function validatePipeline(raw: unknown, selfId?: string): ValidationOutcome {
  const problems: FieldProblem[] = [];
  const size = Buffer.byteLength(JSON.stringify(raw ?? null));
  if (size > MAX_DOCUMENT_BYTES) {
    return { document: null, problems: [{ field: 'document', message: `is ${size} bytes; a pipeline may be at most 2 MB (2097152 bytes)` }], references: [] };
  }
  const parsed = pipelineDocumentSchema.safeParse(raw);
  if (!parsed.success) problems.push(...issues('', parsed.error).map((p) => ({ ...p, field: p.field.replace(/^\./, '') || 'document' })));

  const rawStages = isObject(raw) && Array.isArray(raw.stages) ? raw.stages : [];
  const configs = new Map<number, unknown>();
  const references: LocatedReference[] = [];

  rawStages.forEach((stage, i) => {
    if (!isObject(stage)) return;
    const at = `stages[${i}]`;
    if (typeof stage.type === 'string' && !isStageType(stage.type)) {
      problems.push({ field: `${at}.type`, message: `is not a stage type ("${stage.type}"); use one of ${stageTypes.join(', ')}` });
    } else if (typeof stage.type === 'string' && isObject(stage.config)) {
      const def = stageDefinition(stage.type);
      const config = def.config.safeParse(stage.config);
      if (config.success) {
        configs.set(i, config.data);
        for (const ref of def.references(config.data)) references.push({ ...ref, field: `${at}.config.${ref.path}` });
      } else {
        problems.push(...issues(`${at}.config`, config.error));
      }
    }
    for (const [key, schema] of [['startCondition', startConditionSchema], ['endCondition', endConditionSchema]] as const) {
      if (stage[key] === undefined || stage[key] === null) continue;
      const cond = schema.safeParse(stage[key]);
      if (!cond.success) problems.push(...issues(`${at}.${key}`, cond.error));
    }
  });

  problems.push(...graphProblems(rawStages));
  problems.push(...parameterProblems(isObject(raw) && Array.isArray(raw.parameters) ? raw.parameters : []));
  if (selfId) {
    for (const ref of references) {
      if (ref.kind === 'pipeline' && ref.id === selfId) problems.push({ field: ref.field, message: 'is this pipeline: a pipeline cannot run itself' });
    }
  }

  if (problems.length || !parsed.success) return { document: null, problems: dedupe(problems), references };
  const document: PipelineDocument = {
    ...parsed.data,
    stages: parsed.data.stages.map((s, i) => ({ ...s, config: configs.get(i) as Record<string, unknown> })),
  };
  return { document, problems: [], references };
}

function dedupe(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.field}\u0000${p.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function graphProblems(stages: unknown[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const index = new Map<string, number>();
  stages.forEach((s, i) => {
    if (!isObject(s) || typeof s.refId !== 'string') return;
    const first = index.get(s.refId);
    if (first !== undefined) problems.push({ field: `stages[${i}].refId`, message: `"${s.refId}" is already the refId of stages[${first}]; refIds must be unique` });
    else index.set(s.refId, i);
  });

  const edges = new Map<string, string[]>();
  stages.forEach((s, i) => {
    if (!isObject(s) || typeof s.refId !== 'string' || index.get(s.refId) !== i) return;
    const deps = Array.isArray(s.dependsOn) ? s.dependsOn : [];
    const valid: string[] = [];
    deps.forEach((d, k) => {
      if (typeof d !== 'string') return;
      if (d === s.refId) problems.push({ field: `stages[${i}].dependsOn[${k}]`, message: `is the stage itself ("${d}"); a stage cannot depend on itself` });
      else if (!index.has(d)) problems.push({ field: `stages[${i}].dependsOn[${k}]`, message: `names no stage ("${d}"); known refIds: ${[...index.keys()].join(', ')}` });
      else valid.push(d);
    });
    edges.set(s.refId, valid);
  });

  for (const cycle of findCycles(edges)) {
    const start = index.get(cycle[0])!;
    problems.push({ field: `stages[${start}].dependsOn`, message: `forms a cycle: ${[...cycle, cycle[0]].join(' → ')}; remove one of these dependencies` });
  }

  // A precondition reads a judgement's choice, so the judgement must run before it.
  stages.forEach((s, i) => {
    if (!isObject(s) || s.type !== 'PRECONDITION' || !isObject(s.config) || typeof s.config.judgementRefId !== 'string' || typeof s.refId !== 'string') return;
    const ref = s.config.judgementRefId;
    const field = `stages[${i}].config.judgementRefId`;
    const j = index.get(ref);
    if (j === undefined) return void problems.push({ field, message: `names no stage ("${ref}")` });
    const judgement = stages[j] as Record<string, unknown>;
    if (judgement.type !== 'JUDGEMENT') return void problems.push({ field, message: `"${ref}" is a ${String(judgement.type)} stage, not a JUDGEMENT` });
    if (!ancestors(edges, s.refId).has(ref)) problems.push({ field, message: `judgement "${ref}" is not upstream of this stage; add it to dependsOn (directly or through other stages)` });
  });
  return problems;
}

/** Every refId the stage depends on, directly or through others. */
export function ancestors(edges: Map<string, string[]>, refId: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(edges.get(refId) ?? [])];
  while (stack.length) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(edges.get(next) ?? []));
  }
  return seen;
}

/** Each elementary cycle found by a depth-first search, once (rotated to start at its smallest refId). */
export function findCycles(edges: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = path.slice(path.indexOf(next));
        const min = cycle.indexOf([...cycle].sort()[0]);
        const rotated = [...cycle.slice(min), ...cycle.slice(0, min)];
        cycles.set(rotated.join('\u0000'), rotated);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}

function parameterProblems(parameters: unknown[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Map<string, number>();
  parameters.forEach((p, i) => {
    if (!isObject(p) || typeof p.name !== 'string') return;
    const first = seen.get(p.name);
    if (first !== undefined) problems.push({ field: `parameters[${i}].name`, message: `"${p.name}" is already defined by parameters[${first}]` });
    else seen.set(p.name, i);
    if (Array.isArray(p.options) && p.options.length && typeof p.default === 'string' && !p.options.includes(p.default)) {
      problems.push({ field: `parameters[${i}].default`, message: `"${p.default}" is not one of its options (${p.options.join(', ')})` });
    }
  });
  return problems;
}
