import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where deploy/testenv/up writes the addresses of the real components (KEY=value lines). */
export const TEST_ENV_FILE = join(__dirname, '..', '..', '..', 'deploy', 'testenv', '.state', 'env');

/** Parses the test environment file; an absent file gives an empty map. */
export function readTestEnvFile(file = TEST_ENV_FILE): Record<string, string> {
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return out;
}

let fromFile: Record<string, string> | undefined;

/** Reads one address of the test environment, failing with the fix when it is missing. */
export function testEnv(key: string): string {
  // The file is read once per process (deploy/testenv/up writes it before the tests start).
  if (!fromFile || !Object.keys(fromFile).length) fromFile = readTestEnvFile();
  const value = process.env[key] ?? fromFile[key];
  if (!value) {
    throw new Error(`${key} is not set: run \`npm run testenv:up\` (it writes ${TEST_ENV_FILE})`);
  }
  return value;
}

/** host:port of a URL (its scheme's default port when it names none). */
export function hostPortOf(url: string): string {
  const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`);
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
}

/**
 * OUTBOUND_ALLOW for the test environment: exactly the servers it runs that project admins point
 * Pipewright at (the Jenkins fake, the chart repository, the registry and its token service), plus
 * `more` (a suite's own servers).
 */
export function testOutboundAllow(more: string[] = []): string {
  const own = ['JENKINS_URL', 'CHART_REPO_URL', 'REGISTRY_URL', 'REGISTRY_AUTH_URL'].flatMap((key) => {
    const url = process.env[key] ?? readTestEnvFile()[key];
    return url ? [hostPortOf(url)] : [];
  });
  return [...new Set([...own, ...more])].join(',');
}
