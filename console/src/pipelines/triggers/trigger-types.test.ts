import { describe, expect, it } from 'vitest';
import { TRIGGER_TYPES, configSchema, configToSend, describeConfig, initialConfig, registryNotificationYaml, webhookCurl } from './trigger-types';

const NAMES: Record<string, string> = { 'SOURCE_REPOSITORY:r1': 'app-repo', 'IMAGE_REGISTRY:g1': 'harbor', 'PIPELINE:p1': 'build' };
const names = (kind: string, id: string): string | undefined => NAMES[`${kind}:${id}`];

describe('trigger types', () => {
  it('starts each type from its defaults', () => {
    expect(TRIGGER_TYPES.map((t) => t.type)).toEqual(['GIT_PUSH', 'GIT_TAG', 'IMAGE_PUSH', 'CRON', 'PIPELINE', 'WEBHOOK']);
    expect(initialConfig('GIT_PUSH')).toEqual({ branches: ['*'], artifactName: 'commit' });
    expect(initialConfig('GIT_TAG')).toEqual({ tags: ['*'], artifactName: 'commit' });
    expect(initialConfig('IMAGE_PUSH')).toEqual({ tag: '*', pollIntervalSeconds: 0, artifactName: 'image' });
    expect(initialConfig('CRON')).toEqual({ timezone: 'UTC', missedRuns: 'FIRE_ONCE', catchUpLimit: 10 });
    expect(initialConfig('PIPELINE')).toEqual({ statuses: ['SUCCEEDED'] });
    expect(initialConfig('WEBHOOK')).toEqual({});
  });

  it('shows and sends a CRON catch-up limit only with CATCH_UP, and leaves out empty templates', () => {
    expect(Object.keys(configSchema('CRON', { missedRuns: 'SKIP' }).properties!)).not.toContain('catchUpLimit');
    expect(Object.keys(configSchema('CRON', { missedRuns: 'CATCH_UP' }).properties!)).toContain('catchUpLimit');
    expect(configToSend('CRON', { expression: '* * * * *', missedRuns: 'SKIP', catchUpLimit: 10, parameters: { a: '', b: '  ' } })).toEqual({ expression: '* * * * *', missedRuns: 'SKIP' });
    expect(configToSend('CRON', { expression: '* * * * *', missedRuns: 'CATCH_UP', catchUpLimit: 4, parameters: { a: '${event.scheduledAt}', b: '' } })).toEqual({ expression: '* * * * *', missedRuns: 'CATCH_UP', catchUpLimit: 4, parameters: { a: '${event.scheduledAt}' } });
  });

  it('describes what a trigger reacts to, naming the resources it knows', () => {
    expect(describeConfig('GIT_PUSH', { repositoryId: 'r1', branches: ['main', '/^release-\\d+$/'], paths: ['src/**'], parameters: { version: '${git.sha}' } }, names)).toBe('branches main, /^release-\\d+$/ of app-repo, changing src/**; sets version');
    expect(describeConfig('GIT_TAG', { repositoryId: 'r2', tags: ['v*'] }, names)).toBe('tags v* of repository r2');
    expect(describeConfig('IMAGE_PUSH', { registryId: 'g1', repository: 'team/app', tag: 'v*', pollIntervalSeconds: 60 }, names)).toBe('team/app:v* in harbor, polled every 60 s');
    expect(describeConfig('CRON', { expression: '0 */5 * * * *', timezone: 'UTC', missedRuns: 'CATCH_UP', catchUpLimit: 3 })).toBe('0 */5 * * * * (UTC), missed runs CATCH_UP (at most 3)');
    expect(describeConfig('PIPELINE', { pipelineId: 'p1', statuses: ['SUCCEEDED', 'FAILED'] }, names)).toBe('after build ends SUCCEEDED, FAILED');
    expect(describeConfig('WEBHOOK', { constraints: [{ path: '$.action', equals: 'published' }, { path: '$.release.tag_name', pattern: '^v' }] })).toBe('payloads where $.action = "published", $.release.tag_name ~ /^v/');
    expect(describeConfig('WEBHOOK', {})).toBe('any JSON payload');
  });

  it('writes the registry notification endpoint and the webhook call with the bearer token', () => {
    expect(registryNotificationYaml('https://pw/hooks/x', 's3')).toContain('      url: https://pw/hooks/x\n      headers:\n        Authorization: [Bearer s3]');
    expect(webhookCurl('https://pw/hooks/x', 's3')).toContain("-H 'Authorization: Bearer s3'");
  });
});
