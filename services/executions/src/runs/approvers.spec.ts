import { stageDefinition, type Identity, type Role } from '@pipewright/contracts';
import { approversOf, assertMayApprove, describeApprovers } from './approvers';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const who = (sub: string, roles: Role[], projects: Record<string, Role[]> = {}): Identity => ({
  sub,
  roles,
  via: 'oidc',
  projects: Object.entries(projects).map(([projectId, r]) => ({ projectId, slug: projectId === A ? 'a' : 'b', roles: r })),
});
const code = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    const e = err as { code?: string; extensions?: { code?: string } };
    return e.extensions?.code ?? e.code;
  }
};

describe('approvers of an APPROVAL stage', () => {
  it('defaults to APPROVAL_ADMIN of the run project; another project and a platform ADMIN are refused', () => {
    const a = approversOf({ message: 'ship?' });
    expect(a).toEqual({ role: 'APPROVAL_ADMIN', subjects: null });
    expect(code(() => assertMayApprove(who('ana', [], { [A]: ['APPROVAL_ADMIN'] }), A, a, 'approve'))).toBeUndefined();
    expect(code(() => assertMayApprove(who('bob', [], { [B]: ['APPROVAL_ADMIN'] }), A, a, 'approve'))).toBe('FORBIDDEN');
    expect(code(() => assertMayApprove(who('ada', ['ADMIN']), A, a, 'approve'))).toBe('FORBIDDEN');
    expect(code(() => assertMayApprove(who('dee', [], { [A]: ['DEVELOPER', 'ADMIN'] }), A, a, 'approve'))).toBe('FORBIDDEN');
  });

  it('with subjects, only those subjects who are members of the project', () => {
    const a = approversOf({ approvers: { subjects: ['ana', 'carl'] } });
    expect(a).toEqual({ role: null, subjects: ['ana', 'carl'] });
    expect(code(() => assertMayApprove(who('ana', [], { [A]: ['VIEWER'] }), A, a, 'approve'))).toBeUndefined();
    expect(code(() => assertMayApprove(who('bob', [], { [A]: ['APPROVAL_ADMIN'] }), A, a, 'approve'))).toBe('FORBIDDEN');
    expect(code(() => assertMayApprove(who('carl', [], { [B]: ['APPROVAL_ADMIN'] }), A, a, 'approve'))).toBe('FORBIDDEN');
    expect(code(() => assertMayApprove(who('carl', ['ADMIN']), A, a, 'approve'))).toBe('FORBIDDEN');
    expect(describeApprovers(a)).toBe(`"ana", "carl", while a member of the run's project`);
  });

  it('with a role, members holding it; with both, listed subjects holding it', () => {
    const byRole = approversOf({ approvers: { role: 'ADMIN' } });
    expect(code(() => assertMayApprove(who('pat', [], { [A]: ['ADMIN'] }), A, byRole, 'approve'))).toBeUndefined();
    expect(code(() => assertMayApprove(who('ana', [], { [A]: ['APPROVAL_ADMIN'] }), A, byRole, 'approve'))).toBe('FORBIDDEN');
    expect(code(() => assertMayApprove(who('ada', ['ADMIN']), A, byRole, 'approve'))).toBe('FORBIDDEN');
    const both = approversOf({ approvers: { role: 'APPROVAL_ADMIN', subjects: ['ana'] } });
    expect(code(() => assertMayApprove(who('ana', [], { [A]: ['APPROVAL_ADMIN'] }), A, both, 'approve'))).toBeUndefined();
    expect(code(() => assertMayApprove(who('ana', [], { [A]: ['DEVELOPER'] }), A, both, 'approve'))).toBe('FORBIDDEN');
    expect(code(() => assertMayApprove(who('zed', [], { [A]: ['APPROVAL_ADMIN'] }), A, both, 'approve'))).toBe('FORBIDDEN');
  });

  it('refuses bad approvers in the config with the field named, and expressions as subjects', () => {
    const schema = stageDefinition('APPROVAL').config;
    const issues = (config: unknown) => {
      const r = schema.safeParse(config);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    };
    expect(issues({ approvers: { role: 'OWNER' } })).toEqual(['approvers.role must be VIEWER, DEVELOPER, ADMIN or APPROVAL_ADMIN']);
    expect(issues({ approvers: { subjects: [] } })).toEqual(['approvers.subjects must list at least one subject (or leave subjects out)']);
    expect(issues({ approvers: { subjects: ['ana', 'ana'] } })).toEqual(['approvers.subjects must not repeat a subject']);
    expect(issues({ approvers: { subjects: ['${parameters.approver}'] } })[0]).toMatch(/^approvers\.subjects\.0 must be a subject, not an expression/);
    expect(issues({ approvers: { group: 'x' } })[0]).toMatch(/^approvers /);
    expect(issues({ approvers: { role: 'ADMIN', subjects: ['ana'] } })).toEqual([]);
  });
});
