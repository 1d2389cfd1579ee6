import { QueryError, replyData } from './message-bus';

const SUBJECT = 'rpc.pipelines.pipeline.snapshot';

function thrown(reply: unknown): QueryError {
  try {
    replyData(SUBJECT, reply);
  } catch (err) {
    if (err instanceof QueryError) return err;
    throw err;
  }
  throw new Error('expected a QueryError');
}

describe('a query reply on receipt', () => {
  it('gives the data of a successful reply', () => {
    expect(replyData(SUBJECT, { ok: true, data: { revision: 3 } })).toEqual({ revision: 3 });
  });

  it.each(['NOT_FOUND', 'BAD_REQUEST', 'INTERNAL', 'BAD_REPLY'] as const)('carries a %s answer with its code and message', (code) => {
    const err = thrown({ ok: false, error: { code, message: 'pipeline p has no revision 9' } });
    expect(err.code).toBe(code);
    expect(err.message).toBe('pipeline p has no revision 9');
  });

  it('turns an unknown code into BAD_REPLY naming the code, the known ones and the message', () => {
    const err = thrown({ ok: false, error: { code: 'TEAPOT', message: 'short and stout' } });
    expect(err.code).toBe('BAD_REPLY');
    expect(err.message).toBe(`${SUBJECT} answered with error code "TEAPOT", which is not one of NOT_FOUND, BAD_REQUEST, INTERNAL, BAD_REPLY (its message: short and stout)`);
    expect(thrown({ ok: false, error: {} }).message).toMatch(/error code undefined, which is not one of/);
  });

  it.each([
    ['nothing (not JSON)', undefined],
    ['a string', 'ok'],
    ['an object without ok', { data: 1 }],
    ['ok that is not a boolean', { ok: 'yes', data: 1 }],
  ])('turns %s into BAD_REPLY', (_what, reply) => {
    const err = thrown(reply);
    expect(err.code).toBe('BAD_REPLY');
    expect(err.message).toMatch(/is not a reply envelope/);
  });
});
