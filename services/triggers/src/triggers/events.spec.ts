import { constantTimeEqual, githubSignature, verifyDelivery } from '../hooks/verify';
import { interpret, type TriggerView } from './events';
import { parseConfig } from './trigger-config';

const repo = '00000000-0000-4000-8000-000000000001';
const push = (type: 'GIT_PUSH' | 'GIT_TAG', config: Record<string, unknown>): TriggerView => ({ id: '00000000-0000-4000-8000-0000000000aa', name: 't', type, config: parseConfig(type, { repositoryId: repo, ...config }) });
const sha = 'f'.repeat(40);

describe('what a delivery means for its trigger', () => {
  it('reads a GitLab push hook as a GitHub push', () => {
    const gitlab = { object_kind: 'push', ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, checkout_sha: sha, user_username: 'jdoe', project: { git_http_url: 'https://gitlab.example.com/a/b.git' }, commits: [{ id: sha, message: 'fix it\n\nmore', added: ['src/a.ts'], modified: [], removed: [] }] };
    const out = interpret(push('GIT_PUSH', { branches: ['main'], paths: ['src/**'], parameters: { c: '${git.sha}' } }), { event: 'push', payload: gitlab });
    expect(out).toEqual({ start: true, parameters: { c: sha }, artifacts: { commit: { type: 'git/commit', repositoryId: repo, repository: 'https://gitlab.example.com/a/b.git', branch: 'main', commit: sha } }, summary: 'push to main by jdoe: fffffff fix it' });
    expect(interpret(push('GIT_PUSH', {}), { event: 'push', payload: { ...gitlab, after: '0'.repeat(40), checkout_sha: null } })).toMatchObject({ start: false, outcome: 'IGNORED', reason: 'branch "main" was deleted: a deletion starts nothing' });
  });

  it('starts nothing for events that are not pushes, and rejects a mapping the event cannot fill', () => {
    const github = { ref: 'refs/heads/main', after: sha, head_commit: { id: sha, message: 'm' }, pusher: { name: 'a' }, repository: {} };
    expect(interpret(push('GIT_PUSH', {}), { event: 'workflow_dispatch', payload: github })).toMatchObject({ start: false, outcome: 'IGNORED' });
    expect(interpret(push('GIT_PUSH', {}), { event: 'ping', payload: { zen: 'x' } })).toMatchObject({ start: false, outcome: 'IGNORED' });
    expect(interpret(push('GIT_TAG', {}), { event: 'push', payload: github })).toMatchObject({ start: false, reason: 'a push of branch "main": this trigger starts on tag pushes' });
    expect(interpret(push('GIT_PUSH', { parameters: { v: '${event.release.tag}' } }), { event: 'push', payload: github })).toMatchObject({ start: false, outcome: 'REJECTED', reason: expect.stringMatching(/parameter "v" .*\$\{event\.release\.tag\} is not in the event/) });
  });

  it('checks signatures and tokens in constant time, on the raw body', () => {
    const body = Buffer.from('{"a":1}');
    expect(verifyDelivery('git', 's3cret', { 'x-hub-signature-256': githubSignature('s3cret', body) }, body)).toEqual({ ok: true });
    expect(verifyDelivery('git', 's3cret', { 'x-hub-signature-256': githubSignature('s3cret', Buffer.from('{"a":2}')) }, body)).toMatchObject({ ok: false });
    expect(verifyDelivery('git', 's3cret', { 'x-gitlab-token': 's3cret' }, body)).toEqual({ ok: true });
    expect(verifyDelivery('git', 's3cret', {}, body)).toMatchObject({ ok: false, reason: expect.stringMatching(/neither X-Hub-Signature-256/) });
    expect(verifyDelivery('bearer', 's3cret', { authorization: 'Bearer s3cret' }, body)).toEqual({ ok: true });
    expect(verifyDelivery('bearer', 's3cret', { authorization: 'Basic s3cret' }, body)).toMatchObject({ ok: false });
    expect(constantTimeEqual('a', 'ab')).toBe(false);
  });
});
