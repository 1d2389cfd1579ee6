import { createHash } from 'node:crypto';

/** A UUID derived from a key, so repeating an action for the same key finds the same thing. */
export function stableUuid(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** What identifies one attempt of a stage: a restart (generation) never reuses an earlier attempt's keys. */
export interface AttemptKey {
  runId: string;
  refId: string;
  attempt: number;
  generation: number;
}

/** `run/ref/attempt`, with the generation after a restart (generation 0 keeps the keys of older versions). */
export const attemptKey = (a: AttemptKey) => `${a.runId}/${a.refId}/${a.attempt}${a.generation ? `/g${a.generation}` : ''}`;

/** The id of the build a Source/Build/Bake stage attempt asks for. */
export const buildRequestIdOf = (a: AttemptKey) => stableUuid(`build/${attemptKey(a)}`);

/** The id of the child run a RUN_PIPELINE stage attempt starts, so a repeated start finds it. */
export const childRunIdOf = (a: AttemptKey) => stableUuid(`run/${attemptKey(a)}`);
