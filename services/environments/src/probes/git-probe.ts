import { spawn } from 'node:child_process';
import { ProbeFailure } from './http-probe';

export interface LsRemote {
  head: string | null;
  branches: string[];
}

/**
 * `git ls-remote --symref` with the token sent as an HTTP header through the environment, so it
 * never appears in a command line or a URL.
 */
export function lsRemote(url: string, auth: { user: string; token: string } | null, timeoutMs: number): Promise<LsRemote> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '/bin/false', LC_ALL: 'C' };
  if (auth) {
    Object.assign(env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`${auth.user}:${auth.token}`).toString('base64')}`,
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['ls-remote', '--symref', url], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new ProbeFailure(`cannot run git: ${e.message}; install git on the environments service's machine`, 'PROTOCOL'));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return reject(new ProbeFailure(`no answer from ${hostOf(url)} within ${Math.round(timeoutMs / 1000)} s (timeout): check the URL`, 'TIMEOUT'));
      if (code !== 0) return reject(describeGitError(err, url));
      const branches: string[] = [];
      let head: string | null = null;
      for (const line of out.split('\n')) {
        const sym = /^ref: refs\/heads\/(\S+)\s+HEAD$/.exec(line);
        if (sym) head = sym[1];
        const ref = /^[0-9a-f]{40,64}\s+refs\/heads\/(\S+)$/.exec(line);
        if (ref) branches.push(ref[1]);
      }
      resolve({ head, branches });
    });
  });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function describeGitError(stderr: string, url: string): ProbeFailure {
  const host = hostOf(url);
  const text = stderr.trim().split('\n').filter(Boolean).pop() ?? 'git failed';
  if (/Authentication failed|could not read Username|401|terminal prompts disabled/i.test(stderr)) {
    return new ProbeFailure(`authentication failed (401) at ${host}: check the access token`, 'HTTP', { status: 401 });
  }
  if (/403/.test(stderr)) return new ProbeFailure(`access denied (403) at ${host}: the token lacks read access to this repository`, 'HTTP', { status: 403 });
  if (/Could not resolve host/i.test(stderr)) return new ProbeFailure(`cannot resolve the host "${host.split(':')[0]}" (DNS): check the host name in the URL`, 'DNS');
  if (/Connection refused|Failed to connect/i.test(stderr)) return new ProbeFailure(`connection refused by ${host}: nothing listens there; check the host and port`, 'CONNECTION');
  if (/SSL certificate problem|server certificate verification failed/i.test(stderr)) {
    return new ProbeFailure(`TLS failed: the certificate of ${host} is not trusted: check the URL`, 'TLS');
  }
  if (/not found|404|does not appear to be a git repository/i.test(stderr)) {
    return new ProbeFailure(`repository not found (404) at ${url}: check the clone URL`, 'HTTP', { status: 404 });
  }
  return new ProbeFailure(`git ls-remote failed: ${text}`, 'PROTOCOL');
}
