import Anser from 'anser';
import type { CSSProperties } from 'react';

/** A run of text with one style: classes for the 16 colours and decorations, an inline colour otherwise. */
export interface Segment {
  text: string;
  className?: string;
  style?: CSSProperties;
}

const ESC = '\u001b';

/**
 * What a terminal would leave of a line: the text after its last carriage return (a progress bar
 * rewriting itself), without a trailing one.
 */
export function normaliseLine(raw: string): string {
  let line = raw.endsWith('\r') ? raw.replace(/\r+$/, '') : raw;
  const cr = line.lastIndexOf('\r');
  if (cr >= 0) line = line.slice(cr + 1);
  return line;
}

export const hasAnsi = (line: string) => line.includes(ESC);

const NAMED = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];

/** The xterm 256-colour palette entry n (16..255; 0..15 are the named classes). */
export function paletteColor(n: number): string {
  if (n < 16) return `var(--ansi-${n < 8 ? NAMED[n] : `bright-${NAMED[n - 8]}`})`;
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v}, ${v}, ${v})`;
  }
  const i = n - 16;
  const level = (c: number) => (c === 0 ? 0 : 55 + c * 40);
  return `rgb(${level(Math.floor(i / 36))}, ${level(Math.floor(i / 6) % 6)}, ${level(i % 6)})`;
}

/** Anser's colour name (`ansi-red`, `ansi-bright-blue`, `ansi-palette-208`, `ansi-truecolor`) as a class or a colour. */
function colour(name: string | null, truecolor: string | null, which: 'fg' | 'bg'): { className?: string; color?: string } {
  if (!name) return {};
  if (name === 'ansi-truecolor') return truecolor ? { color: `rgb(${truecolor})` } : {};
  const palette = /^ansi-palette-(\d+)$/.exec(name);
  if (palette) {
    const n = Number(palette[1]);
    if (n < 16) return { className: `ansi-${n < 8 ? NAMED[n] : `bright-${NAMED[n - 8]}`}-${which}` };
    return { color: paletteColor(n) };
  }
  return { className: `${name}-${which}` };
}

/**
 * A log line's ANSI SGR codes as styled segments (other escape sequences dropped). The segments'
 * texts joined are the line's plain text (`plainText`). Text stays text: React escapes it.
 */
export function ansiSegments(line: string): Segment[] {
  if (!hasAnsi(line)) return line ? [{ text: line }] : [];
  const out: Segment[] = [];
  for (const e of Anser.ansiToJson(line, { use_classes: true, remove_empty: true })) {
    if (!e.content) continue;
    // anser applies reverse video itself (swapping the colours, black/white by default).
    const fg = colour(e.fg, e.fg_truecolor, 'fg');
    const bg = colour(e.bg, e.bg_truecolor, 'bg');
    const classes = [fg.className, bg.className, ...e.decorations.filter((d) => d !== 'reverse').map((d) => `ansi-${d}`)];
    const className = classes.filter(Boolean).join(' ') || undefined;
    const style: CSSProperties | undefined = fg.color || bg.color ? { ...(fg.color ? { color: fg.color } : {}), ...(bg.color ? { backgroundColor: bg.color } : {}) } : undefined;
    const last = out[out.length - 1];
    if (last && last.className === className && !last.style && !style) last.text += e.content;
    else out.push({ text: e.content, ...(className ? { className } : {}), ...(style ? { style } : {}) });
  }
  return out;
}

/** The line as shown, without escape codes (what search matches and Download saves). */
export function plainText(line: string): string {
  if (!hasAnsi(line)) return line;
  return ansiSegments(line)
    .map((s) => s.text)
    .join('');
}

/** One piece of a segment, marked when it is inside a search match (`current`: the match jumped to). */
export interface Piece extends Segment {
  mark?: 'match' | 'current';
}

/**
 * Splits segments at the given [start, end) ranges of the plain text (sorted, not overlapping),
 * so matches can be highlighted across colour changes.
 */
export function markSegments(segments: Segment[], ranges: { start: number; end: number; current?: boolean }[]): Piece[] {
  if (!ranges.length) return segments;
  const out: Piece[] = [];
  let pos = 0;
  let r = 0;
  for (const seg of segments) {
    const segEnd = pos + seg.text.length;
    let at = pos;
    while (at < segEnd) {
      while (r < ranges.length && ranges[r].end <= at) r++;
      const range = ranges[r];
      let to: number;
      let mark: Piece['mark'];
      if (!range || range.start >= segEnd) to = segEnd;
      else if (range.start > at) to = range.start;
      else {
        to = Math.min(range.end, segEnd);
        mark = range.current ? 'current' : 'match';
      }
      out.push({ ...seg, text: seg.text.slice(at - pos, to - pos), ...(mark ? { mark } : {}) });
      at = to;
    }
    pos = segEnd;
  }
  return out;
}
