import type { StageDocument } from '@pipewright/contracts';

function getPath(value: unknown, path: string): unknown {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

/** A stage's start condition against the run's artifacts: null when it holds. */
export function unmetStartCondition(doc: StageDocument, artifacts: Record<string, unknown>): { reason: string; onMissing: 'SKIP' | 'FAIL' } | null {
  const start = doc.startCondition as { artifacts: string[]; onMissing: 'SKIP' | 'FAIL' } | undefined;
  if (!start) return null;
  const missing = start.artifacts.filter((a) => !(a in artifacts));
  return missing.length ? { reason: `start condition: artifact(s) ${missing.join(', ')} missing`, onMissing: start.onMissing } : null;
}

/**
 * A succeeded stage's end condition: the run's artifacts with the ones it names taken from the
 * outputs, or what is missing. Null when the stage has no end condition.
 */
export function applyEndCondition(doc: StageDocument, outputs: Record<string, unknown> | null, artifacts: Record<string, unknown>): { artifacts: Record<string, unknown> } | { missing: string } | null {
  const end = doc.endCondition as { artifacts: { name: string; from: string }[] } | undefined;
  if (!end) return null;
  const next = { ...artifacts };
  const missing: string[] = [];
  for (const a of end.artifacts) {
    const value = getPath(outputs ?? {}, a.from);
    if (value === undefined) missing.push(`${a.name} (from ${a.from})`);
    else next[a.name] = value;
  }
  return missing.length ? { missing: `end condition: output(s) missing for artifact(s) ${missing.join(', ')}` } : { artifacts: next };
}

/** Outputs over the cap are replaced by a note that says so (the record stays small). */
export function capOutputs(outputs: Record<string, unknown> | null, maxBytes: number): Record<string, unknown> | null {
  if (!outputs) return outputs;
  const size = Buffer.byteLength(JSON.stringify(outputs));
  if (size <= maxBytes) return outputs;
  return { outputsTruncated: true, originalBytes: size, note: `the outputs were ${size} bytes, over the ${maxBytes}-byte limit (STAGE_OUTPUTS_MAX_BYTES), and were not kept` };
}
