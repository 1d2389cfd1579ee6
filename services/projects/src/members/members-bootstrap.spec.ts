import { loadConfig } from '@pipewright/platform';
import { configSchema } from '../config';
import { parseMembersBootstrap } from './members-bootstrap';

describe('parseMembersBootstrap', () => {
  it('reads subjects and their roles', () => {
    expect(parseMembersBootstrap('developer=DEVELOPER, approver=APPROVAL_ADMIN,viewer=VIEWER,ops=DEVELOPER+APPROVAL_ADMIN')).toEqual([
      { subject: 'developer', roles: ['DEVELOPER'] },
      { subject: 'approver', roles: ['APPROVAL_ADMIN'] },
      { subject: 'viewer', roles: ['VIEWER'] },
      { subject: 'ops', roles: ['DEVELOPER', 'APPROVAL_ADMIN'] },
    ]);
  });

  it('treats an empty value as nobody and drops repeated roles', () => {
    expect(parseMembersBootstrap('')).toEqual([]);
    expect(parseMembersBootstrap(' , ')).toEqual([]);
    expect(parseMembersBootstrap('a=ADMIN+ADMIN')).toEqual([{ subject: 'a', roles: ['ADMIN'] }]);
  });

  it.each([
    ['developer', /entry "developer" must be subject=ROLE/],
    ['=ADMIN', /entry "=ADMIN" must be subject=ROLE/],
    ['dev=', /entry "dev=" must be subject=ROLE/],
    ['dev=OWNER', /role "OWNER" must be VIEWER, DEVELOPER, ADMIN or APPROVAL_ADMIN/],
    ['dev=DEVELOPER+', /role "" must be/],
    ['a=VIEWER,a=ADMIN', /names "a" twice/],
  ])('refuses %j', (value, message) => {
    expect(() => parseMembersBootstrap(value)).toThrow(message);
  });

  it('stops the boot naming the variable when the value is bad', () => {
    const env = { PORT: '4105', DATABASE_URL: 'postgres://127.0.0.1/p', NATS_URL: 'nats://127.0.0.1:4222', NATS_PASSWORD: 'members-spec', INTERNAL_SECRET: '0123456789abcdef' };
    expect(() => loadConfig(configSchema, { ...env, PROJECT_MEMBERS_BOOTSTRAP: 'dev=OWNER' })).toThrow(/PROJECT_MEMBERS_BOOTSTRAP entry "dev=OWNER": role "OWNER"/);
    const config = loadConfig(configSchema, { ...env, PROJECT_MEMBERS_BOOTSTRAP: 'ops=DEVELOPER+APPROVAL_ADMIN' });
    expect(config.PROJECT_MEMBERS_BOOTSTRAP).toEqual([{ subject: 'ops', roles: ['DEVELOPER', 'APPROVAL_ADMIN'] }]);
    expect(config.PROJECTS_USAGE_TIMEOUT_MS).toBe(5000);
    expect(loadConfig(configSchema, env).PROJECT_MEMBERS_BOOTSTRAP).toEqual([]);
  });
});
