/** One occurrence of the search text: line index and [start, end) in the line's plain text. */
export interface Match {
  line: number;
  start: number;
  end: number;
}

/** At most this many matches are kept (the counter then says "10000+"). */
export const MAX_MATCHES = 10_000;

/** Every non-overlapping occurrence of `needle` in `text` (both already lower-cased when case does not matter). */
export function findInLine(text: string, needle: string): [number, number][] {
  const out: [number, number][] = [];
  if (!needle) return out;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) out.push([at, at + needle.length]);
  return out;
}

/**
 * The matches of one query over a growing log: `update` scans only the lines added since the
 * last call, so streaming lines are searched as they arrive. Case-insensitive.
 */
export class LogSearch {
  readonly matches: Match[] = [];
  /** More than MAX_MATCHES were found. */
  capped = false;
  private scanned = 0;
  private readonly needle: string;

  constructor(readonly query: string) {
    this.needle = query.toLowerCase();
  }

  /** Scans lines [scanned, length); returns whether matches were added. */
  update(length: number, plainLine: (index: number) => string): boolean {
    if (!this.needle || this.capped) {
      this.scanned = length;
      return false;
    }
    const before = this.matches.length;
    for (let i = this.scanned; i < length; i++) {
      const text = plainLine(i);
      if (text.length < this.needle.length) continue;
      const lower = text.toLowerCase();
      if (!lower.includes(this.needle)) continue;
      for (const [start, end] of findInLine(lower, this.needle)) {
        if (this.matches.length >= MAX_MATCHES) {
          this.capped = true;
          this.scanned = length;
          return true;
        }
        this.matches.push({ line: i, start, end });
      }
    }
    this.scanned = length;
    return this.matches.length !== before;
  }

  /** The index of the first match on or after `line` (matches.length when none). */
  firstAtOrAfter(line: number): number {
    let lo = 0;
    let hi = this.matches.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.matches[mid].line < line) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The matches on one line, with the index of the first in `matches`. */
  onLine(line: number): { first: number; matches: Match[] } {
    const first = this.firstAtOrAfter(line);
    let end = first;
    while (end < this.matches.length && this.matches[end].line === line) end++;
    return { first, matches: this.matches.slice(first, end) };
  }

  /** "3 of 12", "0 of 0", "1 of 10000+". */
  counter(current: number): string {
    const total = `${this.matches.length}${this.capped ? '+' : ''}`;
    return `${this.matches.length ? current + 1 : 0} of ${total}`;
  }
}

/** The match after (+1) or before (-1) `current`, wrapping around; -1 when there are none. */
export function step(current: number, count: number, direction: 1 | -1): number {
  if (!count) return -1;
  if (current < 0) return direction === 1 ? 0 : count - 1;
  return (current + direction + count) % count;
}
