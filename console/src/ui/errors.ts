import type { CombinedError } from 'urql';

interface Problem {
  field: string;
  message: string;
}

/**
 * The server's BAD_USER_INPUT problems by field path, normalised so that `input.url`,
 * `url` and `input.stages[2].config.replicas` become `url` and `stages.2.config.replicas`.
 * Forms look their fields up in it; what no field claims is shown at the form (`remaining`).
 */
export function fieldErrors(error: CombinedError | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of error?.graphQLErrors ?? []) {
    const ext = e.extensions as { code?: string; problems?: Problem[]; field?: string } | undefined;
    if (ext?.code !== 'BAD_USER_INPUT') continue;
    const problems = ext.problems?.length ? ext.problems : ext.field ? [{ field: ext.field, message: e.message }] : [];
    for (const p of problems) {
      const key = normaliseField(p.field);
      out[key] = out[key] ? `${out[key]}; ${p.message}` : p.message;
    }
  }
  return out;
}

export function normaliseField(field: string): string {
  return field
    .replace(/\[(\d+)\]/g, '.$1')
    .replace(/^input\./, '')
    .replace(/^\./, '');
}
