import { expandTemplate, matches, parseConfig, valueAt } from './trigger-config';

describe('trigger patterns and templates', () => {
  it('matches globs within one path segment, ** across them, and /regex/', () => {
    expect(matches('release/*', 'release/1.2')).toBe(true);
    expect(matches('release/*', 'release/1/2')).toBe(false);
    expect(matches('src/**', 'src/a/b.ts')).toBe(true);
    expect(matches('**/*.md', 'README.md')).toBe(true);
    expect(matches('v?.*', 'v1.20')).toBe(true);
    expect(matches('main', 'main2')).toBe(false);
    expect(matches('/^v\\d+$/', 'v12')).toBe(true);
    expect(matches('/^v\\d+$/', 'v1.2')).toBe(false);
    expect(matches('a.b', 'axb')).toBe(false);
  });

  it('expands ${...} over the event, naming what is missing', () => {
    const scope = { event: { ref: 'refs/heads/main', commits: [{ id: 'abc' }], head: { id: null }, repo: { name: 'x' } } };
    expect(expandTemplate('${event.ref}@${ event.commits[0].id }', scope)).toBe('refs/heads/main@abc');
    expect(() => expandTemplate('${event.head.id}', scope)).toThrow('${event.head.id} is not in the event');
    expect(() => expandTemplate('${event.repo}', scope)).toThrow(/is an object/);
    expect(valueAt(scope, '$.event.commits[1].id')).toBeUndefined();
  });

  it('fills defaults and names each bad field of a config', () => {
    expect(parseConfig('CRON', { expression: '*/2 * * * * *' })).toEqual({ expression: '*/2 * * * * *', timezone: 'UTC', missedRuns: 'FIRE_ONCE', catchUpLimit: 10, parameters: {} });
    expect(() => parseConfig('CRON', { expression: 'every day' })).toThrow(/input\.config\.expression is not a cron expression/);
    expect(() => parseConfig('CRON', { expression: '* * * * *', timezone: 'Mars/Olympus' })).toThrow(/input\.config\.timezone is not a time zone/);
    expect(() => parseConfig('GIT_PUSH', { repositoryId: 'x', branches: ['/(/'], extra: 1 })).toThrow(/input\.config\.repositoryId .*input\.config\.branches\[0\] is not a regular expression.*input\.config Unrecognized key/);
    expect(() => parseConfig('WEBHOOK', { constraints: [{ path: 'action' }] })).toThrow(/input\.config\.constraints\[0\]\.path must be a JSON path.*needs equals or pattern/);
  });
});
