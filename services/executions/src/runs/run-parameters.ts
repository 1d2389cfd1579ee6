import type { ParameterDocument } from '@pipewright/contracts';
import { DomainError, type FieldProblem } from '@pipewright/platform';

/**
 * Checks the parameters of a run against the pipeline's: no unknown names, every required one
 * given (or defaulted), values among the options. Scalars become strings. Every problem at once.
 */
export function resolveParameters(declared: ParameterDocument[], given: unknown): Record<string, string> {
  const problems: FieldProblem[] = [];
  if (given !== null && given !== undefined && (typeof given !== 'object' || Array.isArray(given))) {
    throw DomainError.badInput([{ field: 'parameters', message: 'must be an object of parameter values, e.g. {"env": "prod"}' }]);
  }
  const values = (given ?? {}) as Record<string, unknown>;
  const names = new Set(declared.map((p) => p.name));
  for (const name of Object.keys(values)) {
    if (!names.has(name)) problems.push({ field: `parameters.${name}`, message: `is not a parameter of this pipeline (it has ${[...names].join(', ') || 'none'})` });
  }
  const out: Record<string, string> = {};
  for (const p of declared) {
    const raw = values[p.name];
    if (raw === undefined || raw === null || raw === '') {
      if (p.default !== undefined) out[p.name] = p.default;
      else if (p.required) problems.push({ field: `parameters.${p.name}`, message: `is required${p.options?.length ? ` (one of ${p.options.join(', ')})` : ''}` });
      continue;
    }
    if (!['string', 'number', 'boolean'].includes(typeof raw)) {
      problems.push({ field: `parameters.${p.name}`, message: 'must be a string, number or boolean' });
      continue;
    }
    const value = String(raw);
    if (p.options?.length && !p.options.includes(value)) {
      problems.push({ field: `parameters.${p.name}`, message: `must be one of ${p.options.join(', ')} (got "${value}")` });
      continue;
    }
    out[p.name] = value;
  }
  if (problems.length) throw DomainError.badInput(problems);
  return out;
}
