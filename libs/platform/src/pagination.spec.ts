import { DomainError } from './domain-error';
import { connectionOf, cursorShapes, decodeCursor, encodeCursor, pageArgs } from './pagination';

const ID = '0b6f8f0e-6a53-4a4a-9f43-8a3c8a5a1f10';
const AT = '2025-03-04T05:06:07.089Z';
const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The BAD_USER_INPUT a call throws, or a failure when it throws something else or nothing. */
function refusal(call: () => unknown): DomainError {
  try {
    call();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('cursors', () => {
  it('gives back the parts of a cursor the list wrote, typed by its shape', () => {
    expect(decodeCursor(encodeCursor([AT, ID]), cursorShapes.createdAtId)).toEqual([AT, ID]);
    expect(decodeCursor(encodeCursor(['my pipeline', ID]), cursorShapes.nameId)).toEqual(['my pipeline', ID]);
    expect(decodeCursor(encodeCursor(['team-a']), cursorShapes.key)).toEqual(['team-a']);
    const [revision] = decodeCursor(encodeCursor(['12']), cursorShapes.revision);
    expect(revision).toBe(12);
  });

  it.each([
    ['not base64 JSON', 'garbage!', /it does not decode/],
    ['a JSON object', raw({ at: AT }), /it does not decode/],
    ['numbers', raw([1, 2]), /it does not decode/],
    ['strings of the wrong kinds', raw(['x', 'y']), /part 1 must be a timestamp; this list's cursors hold a timestamp, an id/],
    ['a timestamp and no id', raw([AT, 'y']), /part 2 must be an id/],
    ['too few parts', raw([AT]), /it has 1 part\(s\); this list's cursors have 2: a timestamp, an id/],
    ['too many parts', raw([AT, ID, 'z']), /it has 3 part\(s\)/],
    ['no parts', raw([]), /it has 0 part\(s\)/],
    ['a date that does not exist', raw(['2025-02-31T00:00:00.000Z', ID]), /part 1 must be a timestamp/],
    ['a timestamp PostgreSQL cannot hold', raw(['0000-01-01T00:00:00.000Z', ID]), /part 1 must be a timestamp/],
    ['a timestamp not as the list writes it', raw(['2025-03-04 05:06:07', ID]), /part 1 must be a timestamp/],
  ])('refuses %s where a timestamp and an id are expected, naming after', (_what, cursor, why) => {
    const err = refusal(() => decodeCursor(cursor, cursorShapes.createdAtId));
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.details.field).toBe('after');
    expect(err.message).toMatch(why);
    expect(err.message).toMatch(/pass pageInfo\.endCursor of a previous page of the same list/);
  });

  it.each([
    ['a word', 'x'],
    ['zero', '0'],
    ['a negative number', '-1'],
    ['a fraction', '1.5'],
    ['more than a PostgreSQL integer', '2147483648'],
  ])('refuses %s as a revision', (_what, part) => {
    expect(refusal(() => decodeCursor(raw([part]), cursorShapes.revision)).message).toMatch(/part 1 must be a revision number/);
  });

  it('refuses text PostgreSQL cannot hold (NUL) and a key cursor of two parts', () => {
    expect(refusal(() => decodeCursor(raw(['a\u0000b']), cursorShapes.key)).message).toMatch(/part 1 must be a text/);
    expect(refusal(() => decodeCursor(raw(['a', 'b']), cursorShapes.key)).message).toMatch(/it has 2 part\(s\); this list's cursors have 1: a text/);
    expect(refusal(() => decodeCursor(raw(['a\u0000', ID]), cursorShapes.nameId)).details.field).toBe('after');
  });
});

describe('pageArgs', () => {
  it('defaults first to 20 and no cursor to null', () => {
    expect(pageArgs(undefined, undefined, cursorShapes.key)).toEqual({ first: 20, after: null });
    expect(pageArgs(null, '', cursorShapes.key)).toEqual({ first: 20, after: null });
  });

  it.each([0, 101, 2.5, -3])('refuses first = %p naming first', (first) => {
    const err = refusal(() => pageArgs(first, null, cursorShapes.key));
    expect(err.details.field).toBe('first');
    expect(err.message).toBe(`first must be between 1 and 100 (got ${first})`);
  });

  it("checks the cursor against the list's shape", () => {
    expect(pageArgs(5, encodeCursor([AT, ID]), cursorShapes.createdAtId)).toEqual({ first: 5, after: [AT, ID] });
    expect(refusal(() => pageArgs(5, raw(['x', 'y']), cursorShapes.createdAtId)).details.field).toBe('after');
  });

  it('refuses what is not a cursor at all', () => {
    expect(refusal(() => pageArgs(5, 'garbage!', cursorShapes.createdAtId)).details.field).toBe('after');
  });

  it('a page of a connection ends with the cursor of its last row, which decodes to its sort key', () => {
    const rows = [{ at: AT, id: ID }, { at: '2025-03-04T05:06:06.000Z', id: ID }, { at: '2025-03-04T05:06:05.000Z', id: ID }];
    const page = connectionOf(rows, 2, null, 3, (r) => [r.at, r.id]);
    expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(decodeCursor(page.pageInfo.endCursor!, cursorShapes.createdAtId)).toEqual(['2025-03-04T05:06:06.000Z', ID]);
  });
});
