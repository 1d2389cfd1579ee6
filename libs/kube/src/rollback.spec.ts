import { planRollback } from './rollback';
import type { KubeObject } from './stability';

const template = (image: string, hash?: string) => ({
  metadata: { labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) }, creationTimestamp: null },
  spec: { containers: [{ name: 'main', image }] },
});

const deployment = (revision: string, image: string, extra: Record<string, unknown> = {}): KubeObject => ({
  kind: 'Deployment',
  metadata: {
    name: 'web',
    uid: 'dep-uid',
    annotations: { 'deployment.kubernetes.io/revision': revision, 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'now' },
  },
  spec: { template: template(image), ...extra },
});

const rs = (revision: string, image: string, owner = 'dep-uid'): KubeObject => ({
  kind: 'ReplicaSet',
  metadata: {
    name: `web-${revision}`,
    annotations: { 'deployment.kubernetes.io/revision': revision, 'deployment.kubernetes.io/desired-replicas': '1', team: `then-${revision}` },
    ownerReferences: [{ uid: owner, kind: 'Deployment', name: 'web', controller: true }],
  },
  spec: { template: template(image, `h${revision}`) },
});

describe('planRollback', () => {
  const history = [rs('1', 'app:1'), rs('3', 'app:3'), rs('2', 'app:2'), rs('9', 'other:9', 'someone-else')];

  it('goes back N revisions in the sorted history, with the template minus its hash label and the ReplicaSet annotations', () => {
    const plan = planRollback(deployment('3', 'app:3'), history, 2);
    expect(plan.fromRevision).toBe(3);
    expect(plan.toRevision).toBe(1);
    expect(plan.patch).toEqual([
      { op: 'replace', path: '/spec/template', value: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'app:1' }] } } },
      {
        op: 'replace',
        path: '/metadata/annotations',
        value: { 'deployment.kubernetes.io/revision': '3', 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'then-1' },
      },
    ]);
    expect(planRollback(deployment('3', 'app:3'), history, 1).toRevision).toBe(2);
  });

  it('names the revisions there are when N is too far back', () => {
    expect(() => planRollback(deployment('3', 'app:3'), history, 5)).toThrow('deployment web has revisions 1, 2, 3; cannot go back 5 from revision 3');
    expect(() => planRollback(deployment('3', 'app:3'), history, 0)).toThrow('revisionsBack must be a whole number of at least 1 (got 0)');
    expect(() => planRollback(deployment('1', 'app:1'), [], 1)).toThrow('deployment web has no rollout history (no ReplicaSet with a revision)');
  });

  it('refuses a paused Deployment and skips a template that already matches', () => {
    expect(() => planRollback(deployment('3', 'app:3', { paused: true }), history, 1)).toThrow('deployment web is paused: resume it before rolling it back');
    expect(planRollback(deployment('3', 'app:2'), history, 1)).toEqual({ fromRevision: 3, toRevision: 2, patch: null });
  });
});
