import type { CombinedError } from 'urql';
import { fieldErrors, normaliseField } from '../ui/errors';
import { errorMessage } from '../ui/states';

/** How a field of a create/update input is edited. */
export type FieldType = 'text' | 'select' | 'checkbox' | 'textarea' | 'secret' | 'secret-textarea';

export interface FieldSpec<Row> {
  /** The input field's name, e.g. `url`, `apiServerUrl`. */
  key: string;
  /** Its human name, the <label>'s text. */
  label: string;
  type: FieldType;
  required?: boolean;
  options?: { value: string; label: string }[];
  placeholder?: string;
  hint?: string;
  /** Secrets only: whether the stored resource holds it (they are never returned). */
  isSet?: (row: Row) => boolean;
  /** Secrets only: what the edit form says about it instead of "set" / "not set" (e.g. a kubeconfig is never stored). */
  stateText?: (row: Row) => string;
  /** Secrets only: it cannot be cleared on its own (a kubeconfig just fills other fields). */
  noClear?: boolean;
}

export type FormValue = string | boolean;
export type FormValues = Record<string, FormValue>;

/** What happens to a stored secret on update: left alone (omitted), replaced with the typed value, or cleared (null). */
export type SecretAction = 'keep' | 'replace' | 'clear';
export type SecretActions = Record<string, SecretAction>;

export const isSecret = (f: { type: FieldType }) => f.type === 'secret' || f.type === 'secret-textarea';

/** The form's starting values: the resource's (edit) or the defaults (create; a select starts at its first option). */
export function initialValues<Row>(fields: FieldSpec<Row>[], row?: Row | null): FormValues {
  const out: FormValues = {};
  const source = (row ?? {}) as Record<string, unknown>;
  for (const f of fields) {
    if (isSecret(f)) out[f.key] = '';
    else if (f.type === 'checkbox') out[f.key] = source[f.key] === true;
    else {
      const v = source[f.key];
      out[f.key] = typeof v === 'string' ? v : f.type === 'select' && f.options?.length ? f.options[0].value : '';
    }
  }
  return out;
}

type Input = Record<string, string | boolean | null>;

/**
 * A create input: text that is not blank (trimmed stays as typed; the server trims), checked boxes,
 * secrets that were typed. Left-out fields take the server's defaults.
 */
export function buildCreateInput<Row>(fields: FieldSpec<Row>[], values: FormValues): Input {
  const out: Input = {};
  for (const f of fields) {
    const v = values[f.key];
    if (f.type === 'checkbox') {
      if (v === true) out[f.key] = true;
    } else if (typeof v === 'string' && v.trim() !== '') out[f.key] = v;
  }
  return out;
}

/**
 * An update input: only what changed (omitted fields keep their value on the server). A cleared
 * optional text becomes null; a secret is sent only when replaced with a typed value (or null when
 * cleared), so an untouched secret stays as it is.
 */
export function buildUpdateInput<Row>(fields: FieldSpec<Row>[], row: Row, values: FormValues, secrets: SecretActions): Input {
  const before = initialValues(fields, row);
  const out: Input = {};
  for (const f of fields) {
    const v = values[f.key];
    if (isSecret(f)) {
      const action = secrets[f.key] ?? 'keep';
      if (action === 'clear' && !f.noClear) out[f.key] = null;
      else if (action === 'replace' && typeof v === 'string' && v !== '') out[f.key] = v;
      continue;
    }
    if (v === before[f.key]) continue;
    if (typeof v === 'string' && v.trim() === '' && !f.required) out[f.key] = null;
    else out[f.key] = v;
  }
  return out;
}

/** Whether the form differs from where it started. */
export function isDirty<Row>(fields: FieldSpec<Row>[], start: FormValues, values: FormValues, secrets: SecretActions): boolean {
  return fields.some((f) => values[f.key] !== start[f.key]) || Object.values(secrets).some((a) => a !== 'keep');
}

interface ErrorExtensions {
  code?: string;
  field?: string;
  pipelines?: { id: string; name: string }[];
}
const extensionsOf = (error: CombinedError | null | undefined) => (error?.graphQLErrors ?? []).map((e) => ({ message: e.message, ext: (e.extensions ?? {}) as ErrorExtensions }));

/**
 * The server's complaints by form field: BAD_USER_INPUT problems (`input.url` → `url`) and a
 * CONFLICT that names its field (a name already taken).
 */
export function formFieldErrors(error: CombinedError | null | undefined): Record<string, string> {
  const out = fieldErrors(error);
  for (const { message, ext } of extensionsOf(error)) {
    if (ext.code === 'CONFLICT' && ext.field) {
      const key = normaliseField(ext.field);
      out[key] = out[key] ? `${out[key]}; ${message}` : message;
    }
  }
  return out;
}

/** What of an error no field of the form shows (null when every part of it is shown at a field). */
export function unclaimedError(error: CombinedError | null | undefined, fieldKeys: string[]): string | null {
  if (!error) return null;
  if (!error.graphQLErrors.length) return errorMessage(error);
  const keys = new Set(fieldKeys);
  const parts: string[] = [];
  for (const e of error.graphQLErrors) {
    const ext = (e.extensions ?? {}) as ErrorExtensions & { problems?: { field: string; message: string }[] };
    if (ext.code === 'BAD_USER_INPUT') {
      const problems = ext.problems?.length ? ext.problems : ext.field ? [{ field: ext.field, message: e.message }] : [];
      const left = problems.filter((p) => !keys.has(normaliseField(p.field)));
      if (!problems.length) parts.push(e.message);
      else for (const p of left) parts.push(`${p.field}: ${p.message}`);
    } else if (ext.code === 'CONFLICT' && ext.field && keys.has(normaliseField(ext.field))) {
      continue;
    } else parts.push(e.message);
  }
  return parts.length ? parts.join('\n') : null;
}

/** The pipelines a refused delete names (CONFLICT, `extensions.pipelines`), or null when it was refused for another reason. */
export function conflictPipelines(error: CombinedError | null | undefined): { id: string; name: string }[] | null {
  for (const { ext } of extensionsOf(error)) {
    if (ext.code === 'CONFLICT' && Array.isArray(ext.pipelines)) return ext.pipelines.filter((p) => p && typeof p.id === 'string');
  }
  return null;
}

/** "branchCount" → "Branch count", "apiVersion" → "API version". */
export function humanKey(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .split(' ')
    .filter(Boolean)
    .map((w) => (['api', 'url', 'oci', 'tls', 'id'].includes(w) ? w.toUpperCase() : w));
  const s = words.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export interface ProbeFact {
  label: string;
  /** A single value, or a list (branches, jobs, charts, namespaces...). */
  value: string | string[];
}

/** What a probe's `details` hold, as labelled facts in their order (nulls left out). */
export function probeFacts(details: unknown): ProbeFact[] {
  if (!details || typeof details !== 'object' || Array.isArray(details)) return [];
  const out: ProbeFact[] = [];
  for (const [key, v] of Object.entries(details as Record<string, unknown>)) {
    if (v === null || v === undefined) continue;
    const label = humanKey(key);
    if (Array.isArray(v)) out.push({ label, value: v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))) });
    else if (typeof v === 'boolean') out.push({ label, value: v ? 'yes' : 'no' });
    else if (typeof v === 'object') out.push({ label, value: JSON.stringify(v) });
    else out.push({ label, value: String(v) });
  }
  return out;
}
