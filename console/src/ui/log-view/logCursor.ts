/** A page of a build's log as the API sends it (BuildLogPage). */
export interface LogPage {
  lines: readonly { offset: number; text: string }[];
  nextOffset: number;
  complete: boolean;
}

/**
 * Offset bookkeeping for a log that is read by a subscription which may be restarted (the
 * WebSocket came back, or graphql-ws retried the same subscription from its first offset): the
 * next offset wanted, and each page's lines filtered to those not seen yet, in order, so nothing
 * is shown twice. Resume with `fromOffset: cursor.next`.
 */
export class LogCursor {
  /** The offset to ask for next (one past the last line accepted). */
  next = 0;
  complete = false;
  /** Lines skipped over: a page started past `next` (the server promises this does not happen). */
  missing = 0;

  constructor(from = 0) {
    this.next = from;
  }

  /** The texts of the page's lines not seen before, in offset order. */
  accept(page: LogPage): string[] {
    const fresh: string[] = [];
    const lines = page.lines.length > 1 && !isSorted(page.lines) ? [...page.lines].sort((a, b) => a.offset - b.offset) : page.lines;
    for (const l of lines) {
      if (l.offset < this.next) continue;
      if (l.offset > this.next) this.missing += l.offset - this.next;
      fresh.push(l.text);
      this.next = l.offset + 1;
    }
    // Completion counts only when the page reaches at least as far as what we have (a stale replay does not).
    if (page.complete && page.nextOffset >= this.next) this.complete = true;
    return fresh;
  }
}

function isSorted(lines: readonly { offset: number }[]): boolean {
  for (let i = 1; i < lines.length; i++) if (lines[i].offset < lines[i - 1].offset) return false;
  return true;
}
