import type { MessageBus } from '@pipewright/messaging';

/** `${secrets.NAME}` in a stage's config (the expression evaluator leaves these for the stage's I/O). */
const SECRET_REF = /\$\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}/g;

/** The names of the secrets these strings name, each once. */
export function secretNames(...texts: (string | undefined)[]): string[] {
  const names = new Set<string>();
  for (const t of texts) for (const m of (t ?? '').matchAll(SECRET_REF)) names.add(m[1]);
  return [...names];
}

/** A stage's secret values, for the one call that needs them: filled in there, masked everywhere else. */
export interface Secrets {
  /** The values themselves (to register with a log that masks them). */
  readonly values: readonly string[];
  /** The text with every `${secrets.NAME}` replaced by its value (for the call only: never recorded); `json`: escaped for inside a JSON string. */
  fill(text: string, json?: boolean): string;
  /** The text with every value (and its URL-, form- and JSON-escaped forms) replaced by `***`: for outputs, errors and logs. */
  mask(text: string): string;
  /** `mask` over every string (keys too) in a JSON-like value. */
  maskDeep<T>(value: T): T;
}

export const NO_SECRETS: Secrets = { values: [], fill: (t) => t, mask: (t) => t, maskDeep: (v) => v };

/** Filling and masking over the values `rpc.environments.secret.values` answered (name -> value). */
export function secretsFrom(values: Record<string, string>): Secrets {
  // Longest first, so a value that contains another is masked whole.
  const forms = [...new Set(Object.values(values).flatMap((v) => [v, encodeURIComponent(v), new URLSearchParams({ v }).toString().slice(2), JSON.stringify(v).slice(1, -1)]))]
    .filter((f) => f.length > 0)
    .sort((a, b) => b.length - a.length);
  const mask = (text: string) => forms.reduce((t, f) => t.split(f).join('***'), text);
  const maskDeep = <T>(value: T): T => {
    if (typeof value === 'string') return mask(value) as T;
    if (Array.isArray(value)) return value.map(maskDeep) as T;
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [mask(k), maskDeep(v)])) as T;
    return value;
  };
  const fill = (text: string, json?: boolean) =>
    text.replace(SECRET_REF, (_m, name: string) => (json ? JSON.stringify(values[name]).slice(1, -1) : values[name]));
  return { values: Object.values(values), fill, mask, maskDeep };
}

/**
 * The secrets `texts` name, asked of the environments service (`rpc.environments.secret.values`)
 * in `projectId`; no request when they name none. A name the project has no secret for rejects
 * with the service's NOT_FOUND QueryError, naming it.
 */
export async function requestSecrets(request: MessageBus['request'], projectId: string, texts: (string | undefined)[], timeoutMs?: number): Promise<Secrets> {
  const names = secretNames(...texts);
  if (!names.length) return NO_SECRETS;
  const { values } = await request('rpc.environments.secret.values', { projectId, names }, timeoutMs ? { timeoutMs } : undefined);
  return secretsFrom(values);
}
