import { issueDevToken, signRequest } from '@pipewright/auth';
import { DEFAULT_PROJECT_ID, type IdentityInput, type Role } from '@pipewright/contracts';
import { randomBytes } from 'node:crypto';
import { databaseUrlFor, databaseUrlOn, dropDatabase } from './database';
import { connectTestNats, deleteStreams, natsEnv, testNats, uniquePrefix, type NatsAccess } from './nats';
import { freePort, startProcess, waitForHttpOk, type RunningProcess } from './processes';
import { testOutboundAllow } from './test-env';

export const SERVICE_NAMES = ['projects', 'environments', 'pipelines', 'executions', 'builds', 'triggers'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface TestPlatform {
  gatewayUrl: string;
  serviceUrls: Record<ServiceName, string>;
  prefix: string;
  /** The NATS server the platform runs on and its users' passwords. */
  nats: NatsAccess;
  jwtSecret: string;
  internalSecret: string;
  processes: Record<ServiceName | 'gateway', RunningProcess>;
  /** The extra processes of each service started by the `replicas` option (the gateway never points at them). */
  replicas: Record<ServiceName, RunningProcess[]>;
  /** The environment each service was started with (database URL, prefix, secrets). */
  serviceEnvs: Record<ServiceName, Record<string, string>>;
  /** Stops a service and starts it again on the same port, with `env` merged into its environment. */
  restart(service: ServiceName, env?: Record<string, string>): Promise<void>;
  /**
   * A development token for `sub` (default "tester"). ADMIN in `roles` makes it a platform ADMIN;
   * every other role is granted in the project named `default` (through the real projects service),
   * so the tests written before projects keep their meaning. Without roles: no membership at all.
   */
  token(identity: { sub?: string; name?: string; roles: Role[]; groups?: string[] }, ttlSeconds?: number): Promise<string>;
  /** Creates a project (as a platform admin) and returns its id. */
  createProject(slug: string, name?: string): Promise<string>;
  /** Makes `subject` a member of the project with these roles (as a platform admin). */
  setMember(projectId: string, subject: string, roles: Role[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the six services and the gateway from their built entry points, as `npm start` does, on
 * free ports, with fresh databases and a unique NATS prefix. `stop()` ends them and drops it all.
 */
/** Claims of a test token, and a way to mint one the gateway accepts (the HS256 dev secret by default). */
export interface TokenClaims {
  sub: string;
  name?: string;
  roles: Role[];
  groups?: string[];
}
export type TokenMinter = (claims: TokenClaims, ttlSeconds?: number) => Promise<string>;

export interface PlatformOptions {
  mint?: TokenMinter;
  /**
   * A PostgreSQL server of the suite's own (its superuser's `postgres` database, e.g. startPostgres().url):
   * each service's database is made there instead of on the test environment's server.
   */
  databaseUrl?: string;
  /** A NATS server of the suite's own (e.g. startNats().access) instead of the test environment's. */
  nats?: NatsAccess;
  /**
   * host:port (or CIDR) entries the services' OUTBOUND_ALLOW adds to the test environment's
   * Jenkins fake and chart repository: the suite's own servers that its pipelines call.
   */
  outbound?: string[];
  /** More environment for the gateway alone (e.g. NODE_OPTIONS for a profile). */
  gatewayEnv?: Record<string, string>;
  /**
   * How many processes of a service to run (default 1). The extra ones have the same environment
   * but their own PORT, start once the first is ready (so they never race its migrations) and only
   * share the work; a builds replica gets its own BUILDS_INSTANCE_ID (it resumes its own builds only).
   */
  replicas?: Partial<Record<ServiceName, number>>;
}

export async function startPlatform(
  label = 'platform',
  extraEnv: Record<string, string> = {},
  serviceEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
  options: PlatformOptions = {},
): Promise<TestPlatform> {
  const prefix = uniquePrefix(label);
  const jwtSecret = randomBytes(24).toString('base64url');
  const internalSecret = randomBytes(24).toString('base64url');
  const secretsKeys = `k1:${randomBytes(32).toString('base64')}`;
  const own: Record<ServiceName, Record<string, string>> = {
    projects: { ...serviceEnv.projects },
    environments: { SECRETS_KEYS: secretsKeys, PROBE_TIMEOUT_MS: '10000', ...serviceEnv.environments },
    pipelines: { ...serviceEnv.pipelines },
    executions: { ...serviceEnv.executions },
    builds: { ...serviceEnv.builds },
    triggers: { SECRETS_KEYS: `t1:${randomBytes(32).toString('base64')}`, ...serviceEnv.triggers },
  };
  const nats = options.nats ?? testNats();
  const common = { OUTBOUND_ALLOW: testOutboundAllow(options.outbound), NATS_PREFIX: prefix, INTERNAL_SECRET: internalSecret, LOG_LEVEL: 'warn', ...extraEnv };
  const databases: string[] = [];
  const processes = {} as TestPlatform['processes'];
  const serviceUrls = {} as Record<ServiceName, string>;
  const serviceEnvs = {} as Record<ServiceName, Record<string, string>>;
  const replicas = Object.fromEntries(SERVICE_NAMES.map((s) => [s, []])) as unknown as TestPlatform['replicas'];
  const started: RunningProcess[] = [];
  const urlOf = (db: string) => (options.databaseUrl ? databaseUrlOn(options.databaseUrl, db) : databaseUrlFor(db));
  const stop = async () => {
    await Promise.all(started.map((p) => p.stop()));
    await Promise.all(databases.map((d) => dropDatabase(d, options.databaseUrl).catch(() => undefined)));
    const nc = await connectTestNats('platform-cleanup', { access: nats, reconnect: false }).catch(() => null);
    if (nc) {
      await deleteStreams(nc, prefix).catch(() => undefined);
      await nc.close();
    }
  };
  try {
    // The gateway's port first: hook URLs (the triggers service's PUBLIC_URL) name it.
    const gatewayPort = await freePort();
    own.triggers.PUBLIC_URL ??= `http://127.0.0.1:${gatewayPort}`;
    for (const service of SERVICE_NAMES) {
      const port = await freePort();
      const db = `${prefix}_${service}`;
      databases.push(db);
      // A suite may hand a service a database it prepared (e.g. one migrated by an older version).
      const env = { ...natsEnv(nats, service), ...common, ...own[service], PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: own[service].DATABASE_URL ?? urlOf(db) };
      serviceEnvs[service] = env;
      const proc = startProcess(`services/${service}/dist/main.js`, env);
      started.push(proc);
      processes[service] = proc;
      serviceUrls[service] = `http://127.0.0.1:${port}`;
    }
    await Promise.all(SERVICE_NAMES.map((s) => waitForHttpOk(`${serviceUrls[s]}/health/ready`, processes[s])));
    const extra: Promise<void>[] = [];
    for (const service of SERVICE_NAMES) {
      for (let i = 2; i <= (options.replicas?.[service] ?? 1); i++) {
        const port = await freePort();
        const env: Record<string, string> = { ...serviceEnvs[service], PORT: String(port) };
        if (service === 'builds') env.BUILDS_INSTANCE_ID = `${env.BUILDS_INSTANCE_ID ?? 'builds'}-${i}`;
        const proc = startProcess(`services/${service}/dist/main.js`, env);
        started.push(proc);
        replicas[service].push(proc);
        extra.push(waitForHttpOk(`http://127.0.0.1:${port}/health/ready`, proc));
      }
    }
    await Promise.all(extra);
    const gateway = startProcess('gateway/dist/main.js', {
      ...natsEnv(nats, 'gateway'),
      ...common,
      PORT: String(gatewayPort),
      HOST: '127.0.0.1',
      JWT_SECRET: jwtSecret,
      SCHEMA_POLL_MS: '0',
      // The suites' own traffic stays well under these (e2e/limits.spec.ts sets its own, low ones).
      RATE_LIMIT_PER_SECOND: '1000',
      RATE_LIMIT_BURST: '5000',
      RATE_LIMIT_PER_ADDRESS_PER_SECOND: '5000',
      RATE_LIMIT_PER_ADDRESS_BURST: '20000',
      ...Object.fromEntries(SERVICE_NAMES.map((s) => [`${s.toUpperCase()}_URL`, `${serviceUrls[s]}/graphql`])),
      ...options.gatewayEnv,
    });
    started.push(gateway);
    processes.gateway = gateway;
    await waitForHttpOk(`http://127.0.0.1:${gatewayPort}/health/ready`, gateway);
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
    const mint: TokenMinter = options.mint ?? ((claims, ttl) => issueDevToken(claims, jwtSecret, ttl));
    const adminToken = () => mint({ sub: 'pw-test-admin', roles: ['ADMIN'] }, 600);
    const asAdmin = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
      const res = await gql<T>(gatewayUrl, query, { token: await adminToken(), variables });
      if (res.errors?.length || !res.data) throw new Error(`test setup failed: ${JSON.stringify(res.errors)}`);
      return res.data;
    };
    const setMember = async (projectId: string, subject: string, roles: Role[]) => {
      await asAdmin('mutation($p: ID!, $s: String!, $r: [ProjectRole!]!) { setProjectMember(projectId: $p, subject: $s, roles: $r) { subject } }', { p: projectId, s: subject, r: roles });
    };
    return {
      gatewayUrl,
      serviceUrls,
      prefix,
      nats,
      jwtSecret,
      internalSecret,
      processes,
      replicas,
      serviceEnvs,
      restart: async (service, env = {}) => {
        const old = processes[service];
        await old.stop();
        started.splice(started.indexOf(old), 1);
        serviceEnvs[service] = { ...serviceEnvs[service], ...env };
        const proc = startProcess(`services/${service}/dist/main.js`, serviceEnvs[service]);
        started.push(proc);
        processes[service] = proc;
        await waitForHttpOk(`${serviceUrls[service]}/health/ready`, proc);
      },
      token: async (id, ttl) => {
        const sub = id.sub ?? 'tester';
        const projectRoles = id.roles.filter((r) => r !== 'ADMIN');
        if (projectRoles.length) await setMember(DEFAULT_PROJECT_ID, sub, projectRoles);
        return mint({ sub, name: id.name, roles: id.roles, groups: id.groups }, ttl);
      },
      createProject: async (slug, name) => {
        const data = await asAdmin<{ createProject: { id: string } }>('mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }', { i: { slug, name: name ?? slug } });
        return data.createProject.id;
      },
      setMember,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } & Record<string, unknown>; path?: (string | number)[] }[];
}

/** POSTs one GraphQL operation. */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  opts: {
    token?: string;
    variables?: Record<string, unknown>;
    headers?: Record<string, string>;
    /** Signs the request as the gateway would, for a call straight to a subgraph (`audience`: its service name). */
    sign?: { identity: IdentityInput; secret: string; audience: string; now?: number };
  } = {},
): Promise<GraphQLResponse<T>> {
  const body = JSON.stringify({ query, variables: opts.variables });
  const u = new URL(url);
  const signed = opts.sign ? signRequest(opts.sign.identity, { method: 'POST', path: u.pathname + u.search, body, audience: opts.sign.audience }, opts.sign.secret, opts.sign.now) : {};
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...signed,
      ...opts.headers,
    },
    body,
  });
  const answer = (await res.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: res.status, ...answer };
}
