/**
 * Splits Jenkins' progressive console text into whole lines. Jenkins answers from a byte offset and
 * names the next one (`X-Text-Size`, which need not be offset + body length: it strips console
 * notes), so the offset and the bytes of an unfinished line are the whole state; both go into the
 * saved build state so a resumed build neither repeats nor skips a line.
 */
export class ConsoleLines {
  /** Where the next request starts (bytes of Jenkins' log). */
  offset: number;
  /** Bytes after the last newline so far (an unfinished line, possibly a split UTF-8 character). */
  private pending: Buffer;

  constructor(state: { consoleOffset?: unknown; consolePending?: unknown } = {}) {
    this.offset = typeof state.consoleOffset === 'number' && state.consoleOffset >= 0 ? state.consoleOffset : 0;
    this.pending = typeof state.consolePending === 'string' ? Buffer.from(state.consolePending, 'base64') : Buffer.alloc(0);
  }

  /** Takes one answer: its body and `X-Text-Size`; returns the lines it completed. */
  push(body: Buffer, textSize: string | null): string[] {
    const next = textSize !== null && /^\d+$/.test(textSize.trim()) ? Number(textSize) : this.offset + body.length;
    this.offset = next;
    const data = this.pending.length ? Buffer.concat([this.pending, body]) : body;
    const lines: string[] = [];
    let start = 0;
    for (let nl = data.indexOf(0x0a, start); nl !== -1; nl = data.indexOf(0x0a, start)) {
      lines.push(data.subarray(start, nl).toString('utf8').replace(/\r$/, ''));
      start = nl + 1;
    }
    this.pending = Buffer.from(data.subarray(start));
    return lines;
  }

  /** The unfinished last line, once the log is complete (a log that does not end in a newline). */
  flush(): string[] {
    if (!this.pending.length) return [];
    const last = this.pending.toString('utf8').replace(/\r$/, '');
    this.pending = Buffer.alloc(0);
    return [last];
  }

  /**
   * What to save with the build state. Without `keepPending` the unfinished line is left out (a
   * build with secrets: the line is not masked yet, and could hold one); after a restart its rest
   * then shows as a line of its own.
   */
  state(keepPending = true): { consoleOffset: number; consolePending: string | undefined } {
    return { consoleOffset: this.offset, consolePending: keepPending && this.pending.length ? this.pending.toString('base64') : undefined };
  }
}
