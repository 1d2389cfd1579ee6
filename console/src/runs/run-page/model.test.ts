import { describe, expect, it } from 'vitest';
import { SequenceGate, approvalPrompt, approversText, graphStagesOf, judgementPrompt, mayApprove, type RevisionPipeline, type RunFields } from './model';
import { outputLinks } from './outputs';

describe('SequenceGate', () => {
  it('accepts only sequences above the highest seen', () => {
    const g = new SequenceGate();
    expect(g.last).toBeNull();
    expect(g.accept(3)).toBe(true);
    expect(g.accept(3)).toBe(false);
    expect(g.accept(2)).toBe(false);
    expect(g.accept(7)).toBe(true);
    expect(g.last).toBe(7);
  });
});

describe('prompts', () => {
  it('reads a judgement prompt', () => {
    expect(judgementPrompt({ options: ['ship', 3, 'hold'], description: 'Look' })).toEqual({ options: ['ship', 'hold'], description: 'Look' });
    expect(judgementPrompt(null)).toEqual({ options: [], description: null });
  });

  const viewer = (roles: string[], sub = 'alice') => ({ sub, roles, canApprove: roles.includes('APPROVAL_ADMIN') });

  it('lets APPROVAL_ADMINs approve by default', () => {
    const p = approvalPrompt({ message: 'ok?', approvers: { role: 'APPROVAL_ADMIN', subjects: null, who: "a member of the run's project with APPROVAL_ADMIN" } });
    expect(mayApprove(p, viewer(['APPROVAL_ADMIN']))).toBe(true);
    expect(mayApprove(p, viewer(['ADMIN']))).toBe(false);
    expect(approversText(p)).toBe("a member of the run's project with APPROVAL_ADMIN");
    expect(mayApprove(approvalPrompt({}), viewer(['APPROVAL_ADMIN']))).toBe(true);
  });

  it('follows named approvers and roles', () => {
    const subjects = approvalPrompt({ approvers: { role: null, subjects: ['bob'] } });
    expect(mayApprove(subjects, viewer(['VIEWER'], 'bob'))).toBe(true);
    expect(mayApprove(subjects, viewer(['APPROVAL_ADMIN'], 'alice'))).toBe(false);
    expect(mayApprove(subjects, viewer([], 'bob'))).toBe(false);
    expect(approversText({ ...subjects, approvers: { ...subjects.approvers!, who: undefined } })).toBe(`"bob", while a member of the run's project`);
    const role = approvalPrompt({ approvers: { role: 'DEVELOPER', subjects: null } });
    expect(mayApprove(role, viewer(['DEVELOPER']))).toBe(true);
    expect(mayApprove(role, viewer(['APPROVAL_ADMIN']))).toBe(false);
  });
});

describe('graphStagesOf', () => {
  const stage = (refId: string, status = 'NOT_STARTED') => ({ refId, name: refId, type: 'WEBHOOK', status }) as RunFields['stages'][number];
  const run = { stages: [stage('a', 'SUCCEEDED'), stage('b')] } as RunFields;
  it('takes every stage of the revision with its dependencies', () => {
    const revision = { stages: [{ refId: 'a', name: 'A', type: 'JUDGEMENT', dependsOn: [] }, { refId: 'b', name: 'B', type: 'WEBHOOK', dependsOn: ['a'] }, { refId: 'c', name: 'C', type: 'WEBHOOK', dependsOn: ['b'] }] } as unknown as RevisionPipeline;
    expect(graphStagesOf(revision, run).map((s) => `${s.refId}<${s.dependsOn.join(',')}`)).toEqual(['a<', 'b<a', 'c<b']);
  });
  it("falls back to the run's stages", () => {
    expect(graphStagesOf(null, run).map((s) => s.refId)).toEqual(['a', 'b']);
  });
});

describe('outputLinks', () => {
  it('links a build and its image', () => {
    expect(outputLinks('default', { buildId: 'b1', buildNumber: 4, reference: 'reg/app:1.2', tag: '1.2' })).toEqual([
      { label: 'Build #4 (log)', to: '/p/default/builds/b1' },
      { label: 'Image reg/app:1.2', to: '/p/default/builds/b1' },
    ]);
  });
  it('links a Jenkins build and a child run', () => {
    expect(outputLinks('x', { buildId: 'b2', buildNumber: 7, buildUrl: 'https://ci/job/app/7/', job: 'app' })).toEqual([
      { label: 'Build #7 (log)', to: '/p/x/builds/b2' },
      { label: 'Jenkins app #7', href: 'https://ci/job/app/7/' },
    ]);
    expect(outputLinks('x', { childRunId: 'r9', childStatus: 'SUCCEEDED' })).toEqual([{ label: 'Child run (SUCCEEDED)', to: '/p/x/runs/r9' }]);
    expect(outputLinks('x', null)).toEqual([]);
  });
});
