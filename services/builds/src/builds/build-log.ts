import type { BuildLogLine, BuildStatus } from '@pipewright/contracts';
import type { MessageBus } from '@pipewright/messaging';
import type { DataSource } from 'typeorm';
import type { BuildLog } from '../executors/executor';

const FLUSH_MS = 200;
const MASK = '****';

/**
 * A build's log: each line timestamped and masked of every secret the build registered, stored in
 * chunks (at most `chunkLines` lines, or every 200 ms) and then sent live on
 * `live.builds.log.<buildId>`, so a subscriber that catches up from the database and then listens
 * misses nothing.
 */
export class BuildLogWriter implements BuildLog {
  private secrets: string[] = [];
  private pending: BuildLogLine[] = [];
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
    readonly buildId: string,
    private next: number,
    private readonly limits: { chunkLines: number; maxLine: number },
  ) {}

  get lineCount(): number {
    return this.next;
  }

  secret(value: string | null | undefined): void {
    if (!value || value.length < 3) return;
    // The log is masked line by line: a value of several lines (a PEM key) is masked by each of its
    // lines long enough to be told from ordinary text.
    const lines = value.includes('\n') ? value.split(/\r?\n/).filter((l) => l.trim().length >= 8) : [];
    const forms = [value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2), Buffer.from(value).toString('base64'), ...lines];
    for (const form of forms) if (!this.secrets.includes(form)) this.secrets.push(form);
    this.secrets.sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  }

  line(text: string): void {
    const at = new Date().toISOString();
    for (const raw of text.replace(/\r\n/g, '\n').split('\n')) {
      let t = this.mask(raw);
      if (t.length > this.limits.maxLine) t = `${t.slice(0, this.limits.maxLine)} ... [line cut at ${this.limits.maxLine} characters]`;
      this.pending.push({ offset: this.next++, at, text: t });
    }
    if (this.pending.length >= this.limits.chunkLines) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Stores what is pending, then sends it live; resolves when both are done. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.pending.splice(0, this.pending.length);
    if (lines.length) {
      this.chain = this.chain.then(async () => {
        if (this.failed) return;
        try {
          await this.ds.transaction(async (tx) => {
            await tx.query(`INSERT INTO build_log_chunks (build_id, first_offset, line_count, lines) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [this.buildId, lines[0].offset, lines.length, JSON.stringify(lines)]);
            await tx.query(`UPDATE builds SET log_lines = GREATEST(log_lines, $2) WHERE id = $1`, [this.buildId, lines[lines.length - 1].offset + 1]);
          });
          this.bus.publishLive('live.builds.log', { buildId: this.buildId, lines }, this.buildId);
        } catch {
          this.failed = true; // the database is gone: the build's outcome still reports, the log stops
        }
      });
    }
    return this.chain;
  }

  /**
   * Says the log is complete (live). Call after the build's final status is committed, so that a
   * subscriber catching up from the database at that moment already reads it as finished.
   */
  announceEnd(status: BuildStatus): void {
    this.bus.publishLive('live.builds.log', { buildId: this.buildId, lines: [], end: { status, lineCount: this.next } }, this.buildId);
  }
}
