import { DomainError } from './domain-error';
import { idArgument, optionalIdArgument, revisionArgument } from './arguments';

const ID = '0b6f8f0e-6a53-4a4a-9f43-8a3c8a5a1f10';

function refusal(call: () => unknown): DomainError {
  try {
    call();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('id and revision arguments', () => {
  it('passes an id through and refuses anything else naming the argument', () => {
    expect(idArgument('runId', ID, 'run')).toBe(ID);
    const err = refusal(() => idArgument('runId', 'nope', 'run'));
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.details.field).toBe('runId');
    expect(err.message).toBe('runId must be the id of a run (a UUID; got "nope")');
  });

  it('cuts a long bad id in the message', () => {
    expect(refusal(() => idArgument('id', 'x'.repeat(500), 'pipeline')).message.length).toBeLessThan(160);
  });

  it('an optional id may be left out', () => {
    expect(optionalIdArgument('pipelineId', undefined, 'pipeline')).toBeUndefined();
    expect(optionalIdArgument('pipelineId', null, 'pipeline')).toBeUndefined();
    expect(refusal(() => optionalIdArgument('pipelineId', 'x', 'pipeline')).details.field).toBe('pipelineId');
  });

  it.each([0, -1, 1.5])('refuses revision %p naming it', (revision) => {
    const err = refusal(() => revisionArgument('revision', revision));
    expect(err.details.field).toBe('revision');
    expect(err.message).toBe(`revision must be a revision number, 1 or more (got ${revision}); omit it for the latest`);
  });

  it('a revision may be left out (the latest)', () => {
    expect(revisionArgument('revision', undefined)).toBeNull();
    expect(revisionArgument('revision', 3)).toBe(3);
  });
});
