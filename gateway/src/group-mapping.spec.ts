import { grantsOf, parseGroupMapping } from './group-mapping';

describe('OIDC_GROUP_MAPPING', () => {
  it('maps groups to platform roles and project roles', () => {
    const m = parseGroupMapping('pw-admins=ADMIN; payments-devs=payments:DEVELOPER, payments-leads=payments:ADMIN+APPROVAL_ADMIN');
    expect(grantsOf(m, ['payments-devs', 'payments-leads', 'other'])).toEqual({
      platformRoles: [],
      projectRoles: [
        { slug: 'payments', roles: ['DEVELOPER'] },
        { slug: 'payments', roles: ['ADMIN', 'APPROVAL_ADMIN'] },
      ],
    });
    expect(grantsOf(m, ['pw-admins']).platformRoles).toEqual(['ADMIN']);
  });

  it('names the entry and the problem', () => {
    expect(() => parseGroupMapping('devs')).toThrow('entry "devs" must be group=ROLE');
    expect(() => parseGroupMapping('devs=payments:OWNER')).toThrow('"OWNER" is not a role');
    expect(() => parseGroupMapping('devs=Pay Ments:VIEWER')).toThrow('"Pay Ments" is not a project slug');
  });
});
