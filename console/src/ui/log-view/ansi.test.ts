import { describe, expect, it } from 'vitest';
import { ansiSegments, markSegments, normaliseLine, paletteColor, plainText } from './ansi';

const E = '\u001b';

describe('ansiSegments', () => {
  it('leaves a plain line as one segment', () => {
    expect(ansiSegments('hello <b>&')).toEqual([{ text: 'hello <b>&' }]);
    expect(ansiSegments('')).toEqual([]);
  });

  it('turns SGR colours and decorations into classes', () => {
    expect(ansiSegments(`${E}[1;31merror${E}[0m: plain ${E}[32mgreen${E}[39m`)).toEqual([
      { text: 'error', className: 'ansi-red-fg ansi-bold' },
      { text: ': plain ' },
      { text: 'green', className: 'ansi-green-fg' },
    ]);
    expect(ansiSegments(`${E}[44;97mbg${E}[0m`)).toEqual([{ text: 'bg', className: 'ansi-bright-white-fg ansi-blue-bg' }]);
    expect(ansiSegments(`${E}[3;4mit${E}[0m`)).toEqual([{ text: 'it', className: 'ansi-italic ansi-underline' }]);
  });

  it('gives 256 and true colours as inline colours, palette 0-15 as classes', () => {
    expect(ansiSegments(`${E}[38;5;208morange`)).toEqual([{ text: 'orange', style: { color: paletteColor(208) } }]);
    expect(ansiSegments(`${E}[38;5;1mred`)).toEqual([{ text: 'red', className: 'ansi-red-fg' }]);
    expect(ansiSegments(`${E}[38;2;10;20;30mtrue${E}[0m ${E}[2mdim`)).toEqual([
      { text: 'true', style: { color: 'rgb(10, 20, 30)' } },
      { text: ' ' },
      // anser keeps the last true colour around: it must not leak into later text
      { text: 'dim', className: 'ansi-dim' },
    ]);
  });

  it('swaps colours for reverse video (as anser does)', () => {
    expect(ansiSegments(`${E}[7;31mrev`)).toEqual([{ text: 'rev', className: 'ansi-black-fg ansi-red-bg' }]);
    expect(ansiSegments(`${E}[7mrev`)).toEqual([{ text: 'rev', className: 'ansi-black-fg ansi-white-bg' }]);
  });

  it('drops other escape sequences, and its text is plainText', () => {
    const line = `${E}[2K${E}[32m✔${E}[0m done x${E}[Kcursor`;
    expect(plainText(line)).toBe('✔ done xcursor');
    expect(ansiSegments(line).map((s) => s.text).join('')).toBe(plainText(line));
  });

  it('never yields markup: text stays text', () => {
    const segs = ansiSegments(`${E}[31m<script>alert(1)</script>${E}[0m`);
    expect(segs).toEqual([{ text: '<script>alert(1)</script>', className: 'ansi-red-fg' }]);
  });
});

describe('normaliseLine', () => {
  it('keeps what a terminal would after carriage returns', () => {
    expect(normaliseLine('10%\r50%\r100%')).toBe('100%');
    expect(normaliseLine('done\r')).toBe('done');
    expect(normaliseLine('a\tb')).toBe('a\tb');
  });
});

describe('paletteColor', () => {
  it('follows the xterm cube and grey ramp', () => {
    expect(paletteColor(16)).toBe('rgb(0, 0, 0)');
    expect(paletteColor(196)).toBe('rgb(255, 0, 0)');
    expect(paletteColor(231)).toBe('rgb(255, 255, 255)');
    expect(paletteColor(232)).toBe('rgb(8, 8, 8)');
    expect(paletteColor(255)).toBe('rgb(238, 238, 238)');
  });
});

describe('markSegments', () => {
  it('splits segments at match ranges, across colour changes', () => {
    const segs = [{ text: 'error: ', className: 'r' }, { text: 'disk full' }];
    expect(markSegments(segs, [{ start: 5, end: 9, current: true }])).toEqual([
      { text: 'error', className: 'r' },
      { text: ': ', className: 'r', mark: 'current' },
      { text: 'di', mark: 'current' },
      { text: 'sk full' },
    ]);
  });

  it('marks several ranges in one segment', () => {
    expect(markSegments([{ text: 'abcabc' }], [{ start: 0, end: 1 }, { start: 3, end: 4 }])).toEqual([
      { text: 'a', mark: 'match' },
      { text: 'bc' },
      { text: 'a', mark: 'match' },
      { text: 'bc' },
    ]);
  });

  it('returns the segments as they are without ranges', () => {
    const segs = [{ text: 'x' }];
    expect(markSegments(segs, [])).toBe(segs);
  });
});
