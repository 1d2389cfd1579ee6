import { parseAllDocuments, parse, type ParseOptions, type DocumentOptions, type SchemaOptions, type ToJSOptions } from 'yaml';
import { KubeError } from './kube-error';

export type Manifest = Record<string, unknown>;

/**
 * YAML as kubectl reads it (YAML 1.1: `yes`/`on` are booleans, `0644` is octal), except that
 * timestamps and base-60 numbers stay strings, as they do in Kubernetes' own YAML-to-JSON step.
 */
const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions & ToJSOptions = {
  version: '1.1',
  customTags: (tags) => tags.filter((t) => typeof t === 'string' || (!/timestamp$/.test(t.tag) && t.format !== 'TIME')),
  maxAliasCount: 1000,
};

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

/** Whether `stability()` watches replicas or completion for this kind (rather than mere existence). */
export function isWorkload(kind: string): boolean {
  return WORKLOADS.has(kind);
}

const isMapping = (v: unknown): v is Manifest => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Multi-document YAML (or JSON, or a JSON array of objects) into objects. Empty documents are
 * skipped and the items of a `kind: List` (or `*List`) are flattened in its place. A document that
 * does not parse, is not a mapping, or lacks apiVersion, kind or metadata.name throws a KubeError
 * naming `document N` (1-based, counting the documents of the text) and the field.
 */
export function parseManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  const trimmed = text.trim();
  let raw: unknown[];
  if (trimmed.startsWith('[')) {
    const value = parseValue(trimmed, 'the manifest text');
    raw = Array.isArray(value) ? value : [value];
  } else {
    raw = parseAllDocuments(text, YAML_OPTIONS).map((doc, i) => {
      const error = doc.errors[0];
      if (error) throw new KubeError(`document ${i + 1} does not parse as YAML: ${error.message.split('\n')[0]}`, { document: i + 1, reason: 'ParseError' });
      return doc.toJS({ maxAliasCount: 1000 });
    });
  }
  raw.forEach((value, i) => {
    const n = i + 1;
    if (value === null || value === undefined) return;
    if (!isMapping(value)) throw new KubeError(`document ${n} is not a mapping of fields (got ${Array.isArray(value) ? 'a list' : typeof value}); each document must be one Kubernetes object`, { document: n, reason: 'ParseError' });
    if (Object.keys(value).length === 0) return;
    if (typeof value.kind === 'string' && /List$/.test(value.kind) && Array.isArray(value.items)) {
      value.items.forEach((item, j) => out.push(checkObject(item, `document ${n} (item ${j + 1} of its ${value.kind})`, n)));
      return;
    }
    out.push(checkObject(value, `document ${n}`, n));
  });
  return out;
}

/** Checks that `value` is an object with apiVersion, kind and metadata.name, naming `where` and the field when not. */
export function checkObject(value: unknown, where: string, n: number): Manifest {
  const fail = (field: string, problem: string) => new KubeError(`${where} ${problem}`, { document: n, reason: 'Invalid', causes: [{ field, message: problem }] });
  if (!isMapping(value)) throw fail('', 'is not a mapping of fields');
  if (typeof value.apiVersion !== 'string' || !value.apiVersion) throw fail('apiVersion', 'has no apiVersion (e.g. apiVersion: apps/v1)');
  if (typeof value.kind !== 'string' || !value.kind) throw fail('kind', 'has no kind (e.g. kind: Deployment)');
  const metadata = value.metadata;
  if (!isMapping(metadata)) throw fail('metadata.name', `(${value.kind}) has no metadata.name`);
  if (typeof metadata.name !== 'string' || !metadata.name) {
    const hint = metadata.generateName ? ' (generateName is not supported: apply needs a fixed name)' : '';
    throw fail('metadata.name', `(${value.kind}) has no metadata.name${hint}`);
  }
  if (metadata.namespace !== undefined && metadata.namespace !== null && typeof metadata.namespace !== 'string') {
    throw fail('metadata.namespace', `(${value.kind} ${metadata.name}) has a metadata.namespace that is not a string`);
  }
  return value;
}

/** One YAML or JSON value (a patch, a single document), read the way manifests are. */
export function parseValue(text: string, what: string): unknown {
  try {
    return parse(text, YAML_OPTIONS);
  } catch (err) {
    throw new KubeError(`${what} does not parse as YAML or JSON: ${(err as Error).message.split('\n')[0]}`, { reason: 'ParseError' });
  }
}

/** The value at a dotted field path (`spec.replicas`, `spec.template.spec.containers[0].image`), or undefined. */
export function valueAt(doc: unknown, field: string): unknown {
  let cur: unknown = doc;
  for (const part of field.split('.').flatMap((p) => p.split(/\[(\d+)\]/).filter(Boolean))) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (isMapping(cur)) cur = cur[part];
    else return undefined;
  }
  return cur;
}

export const asRecord = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** The pod spec of each kind that carries one: workloads' templates, a CronJob's job template, a bare Pod. */
export function podSpecOf(doc: Manifest): Record<string, unknown> | undefined {
  const spec = asRecord(doc.spec);
  switch (doc.kind) {
    case 'Pod':
      return spec;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'Job':
      return asRecord(asRecord(spec?.template)?.spec);
    case 'PodTemplate':
      return asRecord(asRecord(doc.template)?.spec);
    case 'CronJob':
      return asRecord(asRecord(asRecord(asRecord(spec?.jobTemplate)?.spec)?.template)?.spec);
    default:
      return undefined;
  }
}

/**
 * Adds `protocol: TCP` where a port list leaves it out (Service spec.ports, containers' ports).
 * Server-side apply on Kubernetes before 1.21 refuses such a list ("associative list with keys
 * has an element that omits key field protocol"), although TCP is the API default anyway.
 */
export function withDefaultPortProtocols(doc: Manifest): Manifest {
  const out = structuredClone(doc);
  const fill = (ports: unknown) => {
    if (!Array.isArray(ports)) return;
    for (const p of ports) {
      const port = asRecord(p);
      if (port && port.protocol === undefined) port.protocol = 'TCP';
    }
  };
  if (out.kind === 'Service') fill(asRecord(out.spec)?.ports);
  const podSpec = podSpecOf(out);
  for (const field of ['initContainers', 'containers']) {
    const list = podSpec?.[field];
    if (Array.isArray(list)) for (const c of list) fill(asRecord(c)?.ports);
  }
  return out;
}
