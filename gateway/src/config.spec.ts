import { ConfigError } from '@pipewright/platform';
import { loadGatewayConfig } from './config';
import { consoleSettings } from './console';

describe('gateway configuration', () => {
  const base = { INTERNAL_SECRET: 'config-spec-internal-secret', NATS_URL: 'nats://127.0.0.1:4222', NATS_PASSWORD: 'config-spec-nats-password' };

  it('takes an empty variable as unset (Compose passes ${OIDC_ISSUER:-} as "")', () => {
    const c = loadGatewayConfig({ ...base, JWT_SECRET: 'config-spec-jwt-secret-0', OIDC_ISSUER: '', OIDC_AUDIENCE: '', OIDC_GROUP_MAPPING: '' });
    expect(c.OIDC_ISSUER).toBeUndefined();
    expect(c.OIDC_AUDIENCE).toBeUndefined();
    expect(c.JWT_SECRET).toBe('config-spec-jwt-secret-0');
  });

  it('needs an http(s) issuer URL, and an audience with an issuer', () => {
    let error: unknown;
    try {
      loadGatewayConfig({ ...base, OIDC_ISSUER: 'not a url' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/OIDC_ISSUER must be an http\(s\):\/\/ URL/);
    expect(() => loadGatewayConfig({ ...base, OIDC_ISSUER: 'https://idp.example.com' })).toThrow(/OIDC_AUDIENCE is required with OIDC_ISSUER/);
  });

  it("tells the console where to sign in: the gateway's provider unless CONSOLE_OIDC_ISSUER, else a pasted token", () => {
    const oidc = loadGatewayConfig({ ...base, OIDC_ISSUER: 'https://idp.example.com/realms/pw', OIDC_AUDIENCE: 'pipewright' });
    expect(consoleSettings(oidc)).toEqual({ auth: 'oidc', issuer: 'https://idp.example.com/realms/pw', clientId: 'pipewright-console', scope: 'openid profile offline_access groups', graphqlPath: '/graphql' });
    const own = loadGatewayConfig({ ...base, OIDC_ISSUER: 'https://idp.example.com/realms/pw', OIDC_AUDIENCE: 'pipewright', CONSOLE_OIDC_ISSUER: 'https://login.example.com', CONSOLE_OIDC_CLIENT_ID: 'pw-web' });
    expect(consoleSettings(own)).toMatchObject({ auth: 'oidc', issuer: 'https://login.example.com', clientId: 'pw-web' });
    expect(consoleSettings(loadGatewayConfig({ ...base, JWT_SECRET: 'config-spec-jwt-secret-0' }))).toEqual({ auth: 'token', graphqlPath: '/graphql' });
  });
});
