/** What `${...}` expressions in a stage config can read. */
export interface ExpressionScope {
  parameters: Record<string, unknown>;
  stages: Record<string, { status: string; outputs: Record<string, unknown> | null }>;
  artifacts: Record<string, unknown>;
  run: { id: string; number: number };
}

export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

const EXPR = /\$\{([^}]*)\}/g;
/** `${secrets.NAME}` is left as it is: only the stage's I/O resolves it, so its value is never in the recorded config. */
const SECRET_REF = /^\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*$/;
const ROOTS = ['parameters', 'stages', 'artifacts', 'run'];

function lookup(expression: string, scope: ExpressionScope, field: string): unknown {
  const parts = expression
    .trim()
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean);
  if (!parts.length || !ROOTS.includes(parts[0])) {
    throw new ExpressionError(`${field}: \${${expression}} must start with ${ROOTS.join(', ')} (or be \${secrets.NAME})`);
  }
  let current: unknown = scope;
  for (let i = 0; i < parts.length; i++) {
    if (current === null || typeof current !== 'object' || !(parts[i] in (current as object))) {
      const have = current && typeof current === 'object' ? Object.keys(current as object).slice(0, 20).join(', ') || 'nothing' : String(current);
      throw new ExpressionError(`${field}: \${${expression}} cannot be resolved: "${parts.slice(0, i).join('.') || 'scope'}" has no "${parts[i]}" (it has ${have})`);
    }
    current = (current as Record<string, unknown>)[parts[i]];
  }
  return current;
}

/**
 * Evaluates every `${...}` in a config. A string that is one whole expression takes the value's
 * type; an expression inside text is interpolated. An unresolvable one is an error naming the
 * field, the expression and the missing step: nothing passes through unevaluated.
 */
export function evaluate(value: unknown, scope: ExpressionScope, field = 'config'): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]*)\}$/.exec(value);
    if (whole) return SECRET_REF.test(whole[1]) ? value : lookup(whole[1], scope, field);
    return value.replace(EXPR, (m, expr: string) => {
      if (SECRET_REF.test(expr)) return m;
      const v = lookup(expr, scope, field);
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => evaluate(v, scope, `${field}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v, scope, `${field}.${k}`)]));
  }
  return value;
}
