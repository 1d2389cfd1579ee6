import { createHash } from 'node:crypto';

/** A UUID derived from a key, so repeating an action for the same key finds the same thing. */
export function stableUuid(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The id of the build a Source/Build/Bake stage attempt asks for. */
export const buildRequestIdOf = (runId: string, refId: string, attempt: number) => stableUuid(`build/${runId}/${refId}/${attempt}`);
