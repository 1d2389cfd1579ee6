import { SERVICE_NAMES, databaseUrlFor, dropDatabase, freePort, natsEnv, startProcess, testEnv, testNats, uniquePrefix, waitForHttpOk } from '@pipewright/testing';

const goodEnv = async (service = 'executions') => ({
  PORT: String(await freePort()),
  HOST: '127.0.0.1',
  ...natsEnv(testNats(), service),
  NATS_PREFIX: uniquePrefix('boot'),
  INTERNAL_SECRET: 'boot-spec-internal-secret',
});

describe('service boot', () => {
  it.each(SERVICE_NAMES)('%s exits non-zero naming DATABASE_URL when it is not a URL', async (service) => {
    const proc = startProcess(`services/${service}/dist/main.js`, { ...(await goodEnv(service)), DATABASE_URL: 'not-a-url' });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(proc.output()).toContain('(got \\"not-a-url\\")');
  });

  it('exits non-zero naming DATABASE_URL, without its password, when the server cannot be reached', async () => {
    const port = await freePort(); // nothing listens there
    const proc = startProcess('services/pipelines/dist/main.js', { ...(await goodEnv('pipelines')), DATABASE_URL: `postgres://postgres:s3cret-pw@127.0.0.1:${port}/pipewright_pipelines` });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/DATABASE_URL \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/pipewright_pipelines\): cannot open the database/);
    expect(proc.output()).not.toContain('s3cret-pw');
  });

  it('reports every bad variable at once and hides secret values', async () => {
    const proc = startProcess('services/builds/dist/main.js', { PORT: 'eighty', DATABASE_URL: 'mysql://x', NATS_URL: testEnv('NATS_URL'), INTERNAL_SECRET: 'short' });
    expect(await proc.exited).toBe(1);
    const out = proc.output();
    expect(out).toMatch(/PORT must be a port number|PORT Expected number/);
    expect(out).toMatch(/DATABASE_URL must be a postgres/);
    expect(out).toMatch(/INTERNAL_SECRET must be at least 16 characters \(got a hidden value\)/);
    expect(out).toMatch(/NATS_PASSWORD is required \(this service's password in the generated nats-server configuration/);
    expect(out).not.toContain('short');
  });

  it.each([
    ['no such user', { NATS_USER: 'nobody' }],
    ['a wrong password', { NATS_PASSWORD: 'not-the-password' }],
    ["another service's password", { NATS_PASSWORD: testNats().passwords.builds }],
  ] as [string, Record<string, string>][])('exits non-zero naming NATS_USER and NATS_PASSWORD when NATS refuses %s', async (_what, change) => {
    const env = await goodEnv('pipelines');
    const proc = startProcess('services/pipelines/dist/main.js', { ...env, ...change, DATABASE_URL: databaseUrlFor(`${env.NATS_PREFIX}_pipelines`) });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/NATS at nats:\/\/127\.0\.0\.1:\d+ refused user \\?"(nobody|pipelines)\\?": set NATS_USER and NATS_PASSWORD/);
    expect(proc.output()).not.toContain(change.NATS_PASSWORD ?? '\u0000');
    await dropDatabase(`${env.NATS_PREFIX}_pipelines`).catch(() => undefined);
  });

  it('the gateway exits non-zero when it has no way to verify tokens', async () => {
    const proc = startProcess('gateway/dist/main.js', { PORT: String(await freePort()), INTERNAL_SECRET: 'boot-spec-internal-secret', ...natsEnv(testNats(), 'gateway') });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/OIDC_ISSUER is required to verify callers/);
  });

  it('the gateway exits non-zero without NATS (memberships and API tokens are asked over it)', async () => {
    const proc = startProcess('gateway/dist/main.js', { PORT: String(await freePort()), INTERNAL_SECRET: 'boot-spec-internal-secret', JWT_SECRET: 'boot-spec-jwt-secret-000' });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/NATS_URL is required/);
  });

  it('the gateway refuses OIDC_ISSUER without OIDC_AUDIENCE, and a bad OIDC_GROUP_MAPPING, naming them', async () => {
    const proc = startProcess('gateway/dist/main.js', {
      PORT: String(await freePort()),
      INTERNAL_SECRET: 'boot-spec-internal-secret',
      ...natsEnv(testNats(), 'gateway'),
      OIDC_ISSUER: 'http://127.0.0.1:9/realms/none',
      OIDC_GROUP_MAPPING: 'devs=payments:OWNER',
    });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/OIDC_AUDIENCE is required with OIDC_ISSUER/);
    expect(proc.output()).toMatch(/OIDC_GROUP_MAPPING entry .{0,4}devs=payments:OWNER.{0,8}OWNER.{0,4} is not a role/);
  });

  it('creates its database and runs its migrations at boot, then reports ready', async () => {
    const env = await goodEnv();
    const db = `${env.NATS_PREFIX}_executions`;
    const proc = startProcess('services/executions/dist/main.js', { ...env, DATABASE_URL: databaseUrlFor(db) });
    try {
      await waitForHttpOk(`http://127.0.0.1:${env.PORT}/health/ready`, proc);
      const ready = await (await fetch(`http://127.0.0.1:${env.PORT}/health/ready`)).json();
      expect(ready).toEqual({ status: 'ok', checks: { database: 'up', nats: 'up' } });
      const metrics = await (await fetch(`http://127.0.0.1:${env.PORT}/metrics`)).text();
      expect(metrics).toContain('pipewright_http_request_duration_seconds');
      const lines = proc.output().trim().split('\n').filter((l) => l.startsWith('{'));
      expect(lines.length).toBeGreaterThan(0);
      expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ service: 'executions', level: 'info' });
    } finally {
      await proc.stop();
      await dropDatabase(db);
    }
  });
});
