import { describe, expect, it } from 'vitest';
import { LogCursor } from './logCursor';

const page = (from: number, count: number, complete = false) => ({
  lines: Array.from({ length: count }, (_, i) => ({ offset: from + i, text: `l${from + i}` })),
  nextOffset: from + count,
  complete,
});

describe('LogCursor', () => {
  it('accepts pages in order and knows the offset to resume from', () => {
    const c = new LogCursor();
    expect(c.accept(page(0, 3))).toEqual(['l0', 'l1', 'l2']);
    expect(c.next).toBe(3);
    expect(c.accept(page(3, 2))).toEqual(['l3', 'l4']);
    expect(c.next).toBe(5);
    expect(c.complete).toBe(false);
  });

  it('drops lines seen before: a resubscription from fromOffset=next, or a retry from 0', () => {
    const c = new LogCursor();
    c.accept(page(0, 5));
    // graphql-ws retried the old subscription from 0 while the new one resumes from 5
    expect(c.accept(page(0, 7))).toEqual(['l5', 'l6']);
    expect(c.accept(page(5, 3))).toEqual(['l7']);
    expect(c.next).toBe(8);
  });

  it('is complete only when the complete page reaches what it has', () => {
    const c = new LogCursor();
    c.accept(page(0, 10));
    // a stale replay ending at 4 with complete would not be the end... 
    expect(c.accept({ lines: [], nextOffset: 4, complete: true })).toEqual([]);
    expect(c.complete).toBe(false);
    expect(c.accept({ lines: [], nextOffset: 10, complete: true })).toEqual([]);
    expect(c.complete).toBe(true);
  });

  it('orders a page by offset and counts lines it never got', () => {
    const c = new LogCursor();
    expect(c.accept({ lines: [{ offset: 1, text: 'b' }, { offset: 0, text: 'a' }], nextOffset: 2, complete: false })).toEqual(['a', 'b']);
    expect(c.accept(page(4, 1))).toEqual(['l4']);
    expect(c.missing).toBe(2);
    expect(c.next).toBe(5);
  });

  it('resumes from a given offset', () => {
    const c = new LogCursor(100);
    expect(c.accept(page(98, 4))).toEqual(['l100', 'l101']);
  });
});
