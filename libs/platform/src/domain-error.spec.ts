import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { DOMAIN_ERROR_CODES, DomainError, assertUnreachable, domainErrorFilter, errorCatalogue, sharedGraphQLCode, toGraphQLError, type GraphQLErrorCode } from './domain-error';

const ownCodes = z.enum([...DOMAIN_ERROR_CODES, 'STATE_NOT_RECORDED', 'NAME_TAKEN']);
type OwnCode = z.infer<typeof ownCodes>;
function ownGraphQLCode(code: OwnCode): GraphQLErrorCode {
  switch (code) {
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'FORBIDDEN':
    case 'UNAVAILABLE':
      return sharedGraphQLCode(code);
    case 'STATE_NOT_RECORDED':
      return 'NOT_FOUND';
    case 'NAME_TAKEN':
      return 'CONFLICT';
    default:
      return assertUnreachable(code);
  }
}
const catalogue = errorCatalogue('spec', ownCodes, ownGraphQLCode);

describe('domain errors as GraphQL errors', () => {
  it.each([
    ['BAD_USER_INPUT', 'BAD_USER_INPUT'],
    ['NOT_FOUND', 'NOT_FOUND'],
    ['CONFLICT', 'CONFLICT'],
    ['FORBIDDEN', 'FORBIDDEN'],
    ['UNAVAILABLE', 'SERVICE_UNAVAILABLE'],
  ] as const)('answers the shared code %s as %s, with the details as extensions', (code, graphQL) => {
    const err = toGraphQLError(new DomainError(code, 'what to do', { field: 'input.name' }));
    expect(err).toBeInstanceOf(GraphQLError);
    expect(err.message).toBe('what to do');
    expect(err.extensions).toEqual({ field: 'input.name', code: graphQL });
  });

  it("maps a service's own code to its GraphQL code and tells it as the reason", () => {
    const err = catalogue.toGraphQLError(new DomainError<OwnCode>('STATE_NOT_RECORDED', 'no state at 7', { field: 'atSequence' }));
    expect(err.extensions).toEqual({ field: 'atSequence', reason: 'STATE_NOT_RECORDED', code: 'NOT_FOUND' });
    expect(catalogue.toGraphQLError(new DomainError<OwnCode>('NAME_TAKEN', 'taken')).extensions).toEqual({ reason: 'NAME_TAKEN', code: 'CONFLICT' });
  });

  it('keeps a reason the error gives, and never lets details override the code', () => {
    const err = catalogue.toGraphQLError(new DomainError<OwnCode>('NAME_TAKEN', 'taken', { reason: 'DUPLICATE_SLUG', code: 'FORBIDDEN' }));
    expect(err.extensions).toEqual({ reason: 'DUPLICATE_SLUG', code: 'CONFLICT' });
  });

  it('refuses a code that is not in the catalogue (only a cast gets one past the type check)', () => {
    const cast = new DomainError<string>('TEAPOT' as never, 'short and stout');
    expect(() => catalogue.toGraphQLError(cast)).toThrow('DomainError code "TEAPOT" is not one of the spec error codes (BAD_USER_INPUT, NOT_FOUND, CONFLICT, FORBIDDEN, UNAVAILABLE, STATE_NOT_RECORDED, NAME_TAKEN): short and stout');
  });

  it("the service's filter answers with its catalogue, and an unknown code as an internal error", () => {
    const Filter = domainErrorFilter(catalogue);
    const filter = new Filter();
    expect(Filter.name).toBe('specDomainErrorFilter');
    expect((filter.catch(new DomainError<OwnCode>('NAME_TAKEN', 'taken'), undefined as never) as GraphQLError).extensions.code).toBe('CONFLICT');
    const unknown = filter.catch(new DomainError<string>('TEAPOT' as never, 'x'), undefined as never) as GraphQLError;
    expect(unknown).toBeInstanceOf(GraphQLError);
    expect(unknown.extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(unknown.message).toBe('internal error');
  });

  it('badInput lists every problem and names the first field', () => {
    const err = DomainError.badInput([
      { field: 'input.url', message: 'must be a URL' },
      { field: 'input.name', message: 'is required' },
    ]);
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.message).toBe('input.url must be a URL; input.name is required');
    expect(err.details).toMatchObject({ field: 'input.url', problems: [{ field: 'input.url' }, { field: 'input.name' }] });
  });

  it('assertUnreachable names the value it was given', () => {
    expect(() => assertUnreachable('NEW_CODE' as never, 'projects error code')).toThrow('unhandled projects error code "NEW_CODE"');
  });
});
