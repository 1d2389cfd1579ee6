import type { RunsListRunFieldsFragment } from '../../gql/graphql';

export type RunRow = RunsListRunFieldsFragment;

/** What the subscriptions said since the page was loaded: newer states of runs, and new runs. */
export interface LiveRows {
  updates: Map<string, RunRow>;
  added: RunRow[];
}

export const emptyLive = (): LiveRows => ({ updates: new Map(), added: [] });

const newer = (a: RunRow | undefined, b: RunRow) => !a || b.sequence > a.sequence;

/**
 * Takes one delivery of runsUpdated: a run on the page is updated in place (if the delivery is
 * newer); a run created after the newest one shown appears at the top of page 1 (when it matches
 * the status filter); anything else (a run of another page changing) is left out.
 */
export function applyDelivery(live: LiveRows, base: readonly RunRow[], run: RunRow, opts: { firstPage: boolean; status: string | null }): LiveRows {
  const known = base.find((r) => r.id === run.id) ?? live.added.find((r) => r.id === run.id);
  if (known) {
    const current = live.updates.get(run.id) ?? known;
    if (!newer(current, run)) return live;
    const updates = new Map(live.updates);
    updates.set(run.id, run);
    return { ...live, updates };
  }
  if (!opts.firstPage || (opts.status && run.status !== opts.status)) return live;
  const newest = [...live.added, ...base].reduce<string | null>((m, r) => (m === null || r.createdAt > m ? r.createdAt : m), null);
  if (newest !== null && run.createdAt <= newest) return live;
  return { ...live, added: [run, ...live.added] };
}

/** The rows to show: new runs first (newest first), then the page, each in its newest state. */
export function rowsOf(live: LiveRows, base: readonly RunRow[]): RunRow[] {
  const ids = new Set(base.map((r) => r.id));
  const latest = (r: RunRow) => {
    const u = live.updates.get(r.id);
    return u && u.sequence > r.sequence ? u : r;
  };
  const added = live.added.filter((r) => !ids.has(r.id)).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  return [...added.map(latest), ...base.map(latest)];
}
