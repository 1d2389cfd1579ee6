import { issueDevToken } from '@pipewright/auth';
import type { Identity } from '@pipewright/contracts';
import { randomBytes } from 'node:crypto';
import { databaseUrlFor, dropDatabase } from './database';
import { connectTestNats, deleteStreams, uniquePrefix } from './nats';
import { freePort, startProcess, waitForHttpOk, type RunningProcess } from './processes';
import { testEnv } from './test-env';

export const SERVICE_NAMES = ['environments', 'pipelines', 'executions', 'builds'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface TestPlatform {
  gatewayUrl: string;
  serviceUrls: Record<ServiceName, string>;
  prefix: string;
  jwtSecret: string;
  internalSecret: string;
  processes: Record<ServiceName | 'gateway', RunningProcess>;
  /** The environment each service was started with (database URL, prefix, secrets). */
  serviceEnvs: Record<ServiceName, Record<string, string>>;
  /** Stops a service and starts it again on the same port, with `env` merged into its environment. */
  restart(service: ServiceName, env?: Record<string, string>): Promise<void>;
  token(identity: Partial<Identity> & { roles: Identity['roles'] }, ttlSeconds?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts the four services and the gateway from their built entry points, as `npm start` does, on
 * free ports, with fresh databases and a unique NATS prefix. `stop()` ends them and drops it all.
 */
export async function startPlatform(
  label = 'platform',
  extraEnv: Record<string, string> = {},
  serviceEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
): Promise<TestPlatform> {
  const prefix = uniquePrefix(label);
  const jwtSecret = randomBytes(24).toString('base64url');
  const internalSecret = randomBytes(24).toString('base64url');
  const secretsKeys = `k1:${randomBytes(32).toString('base64')}`;
  const own: Record<ServiceName, Record<string, string>> = {
    environments: { SECRETS_KEYS: secretsKeys, PROBE_TIMEOUT_MS: '10000', ...serviceEnv.environments },
    pipelines: { ...serviceEnv.pipelines },
    executions: { ...serviceEnv.executions },
    builds: { ...serviceEnv.builds },
  };
  const common = { NATS_URL: testEnv('NATS_URL'), NATS_PREFIX: prefix, INTERNAL_SECRET: internalSecret, LOG_LEVEL: 'warn', ...extraEnv };
  const databases: string[] = [];
  const processes = {} as TestPlatform['processes'];
  const serviceUrls = {} as Record<ServiceName, string>;
  const serviceEnvs = {} as Record<ServiceName, Record<string, string>>;
  const started: RunningProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((p) => p.stop()));
    await Promise.all(databases.map((d) => dropDatabase(d).catch(() => undefined)));
    const nc = await connectTestNats();
    await deleteStreams(nc, prefix);
    await nc.close();
  };
  try {
    for (const service of SERVICE_NAMES) {
      const port = await freePort();
      const db = `${prefix}_${service}`;
      databases.push(db);
      const env = { ...common, ...own[service], PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrlFor(db) };
      serviceEnvs[service] = env;
      const proc = startProcess(`services/${service}/dist/main.js`, env);
      started.push(proc);
      processes[service] = proc;
      serviceUrls[service] = `http://127.0.0.1:${port}`;
    }
    await Promise.all(SERVICE_NAMES.map((s) => waitForHttpOk(`${serviceUrls[s]}/health/ready`, processes[s])));
    const gatewayPort = await freePort();
    const gateway = startProcess('gateway/dist/main.js', {
      ...common,
      PORT: String(gatewayPort),
      HOST: '127.0.0.1',
      JWT_SECRET: jwtSecret,
      SCHEMA_POLL_MS: '0',
      ...Object.fromEntries(SERVICE_NAMES.map((s) => [`${s.toUpperCase()}_URL`, `${serviceUrls[s]}/graphql`])),
    });
    started.push(gateway);
    processes.gateway = gateway;
    await waitForHttpOk(`http://127.0.0.1:${gatewayPort}/health/ready`, gateway);
    return {
      gatewayUrl: `http://127.0.0.1:${gatewayPort}/graphql`,
      serviceUrls,
      prefix,
      jwtSecret,
      internalSecret,
      processes,
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
      token: (id, ttl) => issueDevToken({ sub: id.sub ?? 'tester', name: id.name, roles: id.roles }, jwtSecret, ttl),
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
  opts: { token?: string; variables?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    body: JSON.stringify({ query, variables: opts.variables }),
  });
  const body = (await res.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: res.status, ...body };
}
