import { normaliseLine, plainText, hasAnsi } from './ansi';

/** Schedules a callback for the next frame; returns a function that cancels it. */
export type FrameScheduler = (callback: () => void) => () => void;

export const animationFrame: FrameScheduler = (callback) => {
  if (typeof requestAnimationFrame !== 'function') {
    const t = setTimeout(callback, 16);
    return () => clearTimeout(t);
  }
  const id = requestAnimationFrame(callback);
  return () => cancelAnimationFrame(id);
};

/** Columns a line takes at most in a monospace font, a tab counting as 8. */
export function columns(plain: string): number {
  if (!plain.includes('\t')) return plain.length;
  let n = 0;
  for (const ch of plain) n = ch === '\t' ? n + 8 - (n % 8) : n + 1;
  return n;
}

/** Lines per chunk: appending never copies more than one chunk. */
export const CHUNK_SIZE = 4096;

/**
 * A log's lines outside React state: appended in place into fixed-size chunks (no array of 100,000
 * strings copied per batch), published to readers at most once per frame. `length` is what has
 * been published, so a render sees a consistent count; listeners are told once per frame.
 */
export class LineStore {
  private raw: string[][] = [];
  /** The plain text of a line with escape codes; the same string (no copy) otherwise. */
  private plain: string[][] = [];
  private stored = 0;
  private published = 0;
  private widest = 0;
  private publishedWidest = 0;
  private cancelFrame: (() => void) | null = null;
  private listeners = new Set<() => void>();

  constructor(private readonly schedule: FrameScheduler = animationFrame) {}

  /** Lines readers may see (published at the last frame). */
  get length(): number {
    return this.published;
  }

  /** Columns of the widest published line (tabs as up to 8): every row is drawn this wide. */
  get width(): number {
    return this.publishedWidest;
  }

  /** Lines received, including those not yet published. */
  get receivedLength(): number {
    return this.stored;
  }

  append(lines: readonly string[]): void {
    if (!lines.length) return;
    for (const text of lines) {
      const line = normaliseLine(text);
      const c = this.stored >> 12; // CHUNK_SIZE = 2^12
      if (!this.raw[c]) {
        this.raw[c] = [];
        this.plain[c] = [];
      }
      const plain = hasAnsi(line) ? plainText(line) : line;
      this.raw[c].push(line);
      this.plain[c].push(plain);
      this.stored++;
      const width = columns(plain);
      if (width > this.widest) this.widest = width;
    }
    this.cancelFrame ??= this.schedule(() => {
      this.cancelFrame = null;
      this.publish();
    });
  }

  /** Publishes what was appended now (e.g. when the log is complete) instead of at the next frame. */
  flush(): void {
    if (this.cancelFrame) {
      this.cancelFrame();
      this.cancelFrame = null;
    }
    this.publish();
  }

  private publish(): void {
    if (this.published === this.stored) return;
    this.published = this.stored;
    this.publishedWidest = this.widest;
    this.listeners.forEach((l) => l());
  }

  /** The line as received (with its escape codes). */
  line(index: number): string {
    return this.raw[index >> 12]?.[index & (CHUNK_SIZE - 1)] ?? '';
  }

  /** The line without escape codes. */
  plainLine(index: number): string {
    return this.plain[index >> 12]?.[index & (CHUNK_SIZE - 1)] ?? '';
  }

  /** The published lines' plain text, one per line (Download). */
  text(): string {
    const parts: string[] = [];
    let left = this.published;
    for (const chunk of this.plain) {
      if (left <= 0) break;
      parts.push((left >= chunk.length ? chunk : chunk.slice(0, left)).join('\n'));
      left -= chunk.length;
    }
    return parts.length ? `${parts.join('\n')}\n` : '';
  }

  /** For useSyncExternalStore. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  getSnapshot = (): number => this.published;

  /** Stops a pending frame (the view went away); listeners go with their own unsubscribe. */
  dispose(): void {
    this.cancelFrame?.();
    this.cancelFrame = null;
  }
}
