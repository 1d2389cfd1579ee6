import { describe, expect, it } from 'vitest';
import { findInLine, LogSearch, MAX_MATCHES, step } from './search';

describe('findInLine', () => {
  it('finds every non-overlapping occurrence', () => {
    expect(findInLine('aaaa', 'aa')).toEqual([
      [0, 2],
      [2, 4],
    ]);
    expect(findInLine('error: no error', 'error')).toEqual([
      [0, 5],
      [10, 15],
    ]);
    expect(findInLine('abc', '')).toEqual([]);
  });
});

describe('LogSearch', () => {
  const lines = ['Compiling', 'ERROR: disk full', 'ok', 'an error and an Error'];
  const plain = (i: number) => lines[i];

  it('matches case-insensitively and counts', () => {
    const s = new LogSearch('error');
    s.update(lines.length, plain);
    expect(s.matches).toEqual([
      { line: 1, start: 0, end: 5 },
      { line: 3, start: 3, end: 8 },
      { line: 3, start: 16, end: 21 },
    ]);
    expect(s.counter(0)).toBe('1 of 3');
    expect(s.counter(2)).toBe('3 of 3');
  });

  it('scans only lines added since the last update', () => {
    const log = ['error 1'];
    const s = new LogSearch('error');
    let reads = 0;
    const read = (i: number) => (reads++, log[i]);
    expect(s.update(1, read)).toBe(true);
    log.push('fine', 'error 2');
    expect(s.update(3, read)).toBe(true);
    expect(s.update(3, read)).toBe(false);
    expect(reads).toBe(3);
    expect(s.matches.map((m) => m.line)).toEqual([0, 2]);
  });

  it('finds the matches of a line and the first match at or after a line', () => {
    const s = new LogSearch('error');
    s.update(lines.length, plain);
    expect(s.onLine(3)).toEqual({ first: 1, matches: [s.matches[1], s.matches[2]] });
    expect(s.onLine(2)).toEqual({ first: 1, matches: [] });
    expect(s.firstAtOrAfter(0)).toBe(0);
    expect(s.firstAtOrAfter(2)).toBe(1);
    expect(s.firstAtOrAfter(4)).toBe(3);
  });

  it('says 0 of 0 without matches and stops at MAX_MATCHES', () => {
    const none = new LogSearch('zzz');
    none.update(lines.length, plain);
    expect(none.counter(-1)).toBe('0 of 0');
    const many = new LogSearch('x');
    many.update(MAX_MATCHES + 10, () => 'x');
    expect(many.matches).toHaveLength(MAX_MATCHES);
    expect(many.capped).toBe(true);
    expect(many.counter(0)).toBe(`1 of ${MAX_MATCHES}+`);
  });

  it('searches 100,000 lines quickly', () => {
    const s = new LogSearch('needle');
    const t = performance.now();
    s.update(100_000, (i) => (i % 1000 === 0 ? `line ${i} has a Needle` : `line ${i} is hay, hay and more hay`));
    expect(s.matches).toHaveLength(100);
    expect(performance.now() - t).toBeLessThan(1000);
  });
});

describe('step', () => {
  it('wraps around both ways', () => {
    expect(step(-1, 3, 1)).toBe(0);
    expect(step(-1, 3, -1)).toBe(2);
    expect(step(2, 3, 1)).toBe(0);
    expect(step(0, 3, -1)).toBe(2);
    expect(step(0, 0, 1)).toBe(-1);
  });
});
