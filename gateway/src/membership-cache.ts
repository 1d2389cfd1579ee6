import type { Membership } from '@pipewright/contracts';

/** Callers remembered at most (the least recently used are forgotten first). */
const MAX_ENTRIES = 10_000;

interface Entry {
  memberships: Membership[];
  until: number;
}

/**
 * The project memberships the gateway asked of the projects service, per caller (subject and the
 * project roles his groups grant), so a request does not cost a NATS round trip and a query.
 *
 * Nothing stale is served past a change the gateway can know of: `clear()` drops everything, and
 * the gateway calls it after every mutation it forwards to the projects service (what this
 * gateway changed is read by the caller's next request at once), on every member or project
 * change event (what another gateway instance changed, a few milliseconds later) and when its
 * NATS connection comes back (events may have been missed). An entry older than the TTL is asked
 * again anyway. A lookup that started before a clear is not remembered (its answer may predate
 * the change). Concurrent requests of one caller share one lookup.
 */
export class MembershipCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Membership[]>>();
  private generation = 0;

  constructor(
    /** How long an answer is used at most; 0 remembers nothing (concurrent lookups are still shared). */
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string, lookup: () => Promise<Membership[]>): Promise<Membership[]> {
    const hit = this.entries.get(key);
    if (hit && hit.until > this.now()) {
      // Re-inserted last: the map stays ordered by recent use.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.memberships;
    }
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const generation = this.generation;
    const promise = lookup().then(
      (memberships) => {
        if (this.pending.get(key) === promise) this.pending.delete(key);
        if (generation === this.generation && this.ttlMs > 0) {
          this.entries.delete(key);
          this.entries.set(key, { memberships, until: this.now() + this.ttlMs });
          if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
        }
        return memberships;
      },
      (err: unknown) => {
        if (this.pending.get(key) === promise) this.pending.delete(key);
        throw err;
      },
    );
    this.pending.set(key, promise);
    return promise;
  }

  /** Forgets every caller's memberships, and the answers of lookups still in flight. */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.pending.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
