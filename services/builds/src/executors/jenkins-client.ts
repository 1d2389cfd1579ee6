import type { ResolvedBuildTool } from '@pipewright/contracts';
import { outboundFetch, OutboundRefusedError, type OutboundPolicy, type OutboundResponse } from '@pipewright/platform';
import { setTimeout as sleep } from 'node:timers/promises';
import { BuildFailure } from './executor';

/** Poll delays: start ~250 ms, ×1.5 each time, at most 5 s. */
export class Backoff {
  private delay: number;

  constructor(
    private readonly startMs = 250,
    private readonly factor = 1.5,
    private readonly capMs = 5000,
  ) {
    this.delay = startMs;
  }

  /** The delay to wait now; the next one grows. */
  next(): number {
    const d = this.delay;
    this.delay = Math.min(Math.round(this.delay * this.factor), this.capMs);
    return d;
  }

  reset(): void {
    this.delay = this.startMs;
  }
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
export function wait(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).then(() => undefined);
}

export interface JenkinsResponse {
  status: number;
  headers: OutboundResponse['headers'];
  body: Buffer;
}

/** Jenkins answered with a status that is not what the call expected. */
export class JenkinsHttpError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly url: string,
    readonly body: string,
  ) {
    super(`Jenkins answered ${status} to ${method} ${url}${firstLine(body) ? `: ${firstLine(body)}` : ''}`);
  }
}

/** The outbound guard refused the tool's URL (or a redirect): the build fails at once, naming the address and OUTBOUND_ALLOW. */
export class JenkinsRefusedError extends BuildFailure {}

/** The request never got an answer (refused, reset, timed out). */
export class JenkinsNetworkError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`no answer from ${url}: ${reason}`);
  }
}

const firstLine = (text: string) => text.trim().split('\n')[0]?.slice(0, 300) ?? '';

/** Failures worth retrying while polling: no answer at all, or a 5xx / 429 from Jenkins or a proxy. */
export function isTransient(err: unknown): boolean {
  if (err instanceof JenkinsNetworkError) return true;
  return err instanceof JenkinsHttpError && (err.status >= 500 || err.status === 429);
}

function describeNetworkError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  const code = e?.cause?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    UND_ERR_SOCKET: 'connection closed',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  };
  if (code) return known[code] ?? `${code}${e.cause?.message ? ` (${e.cause.message})` : ''}`;
  return e?.cause?.message ?? e?.message ?? String(err);
}

export interface JenkinsClientOptions {
  /** Time limit of one HTTP request. */
  requestTimeoutMs?: number;
  /** How long polling keeps retrying transient failures in a row before the build fails. */
  retryWindowMs?: number;
  /** Told once per streak of transient failures (to write it in the build log). */
  onRetry?: (message: string) => void;
  /** What the tool's URL may reach besides public addresses (OUTBOUND_ALLOW): a project admin sets it. */
  outbound: OutboundPolicy;
}

/**
 * Jenkins' remote-access API for one build tool: HTTP Basic with the user and API token, the CSRF
 * crumb on every POST (none when the crumb issuer answers 404), errors that name the fix.
 */
export class JenkinsClient {
  /** Jenkins' root URL, ending in "/". */
  readonly base: string;
  private crumb: Record<string, string> | null | undefined;
  private readonly requestTimeoutMs: number;
  private readonly retryWindowMs: number;

  constructor(
    readonly tool: ResolvedBuildTool,
    private readonly options: JenkinsClientOptions,
  ) {
    this.base = tool.url.endsWith('/') ? tool.url : `${tool.url}/`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.retryWindowMs = options.retryWindowMs ?? 3 * 60_000;
  }

  /** `folder/job` -> `<base>job/folder/job/job/` */
  jobUrl(job: string): string {
    const path = job
      .split('/')
      .filter(Boolean)
      .map((part) => `job/${encodeURIComponent(part)}/`)
      .join('');
    return `${this.base}${path}`;
  }

  /** One request; throws JenkinsHttpError for any status outside `accept`, JenkinsNetworkError when no answer came. */
  async send(
    method: 'GET' | 'POST',
    url: string,
    opts: { signal?: AbortSignal; body?: URLSearchParams; accept?: (status: number) => boolean } = {},
  ): Promise<JenkinsResponse> {
    const headers: Record<string, string> = { accept: 'application/json, text/plain, */*' };
    if (this.tool.username && this.tool.apiToken) {
      headers.authorization = `Basic ${Buffer.from(`${this.tool.username}:${this.tool.apiToken}`).toString('base64')}`;
    }
    if (method === 'POST') Object.assign(headers, await this.getCrumb(opts.signal));
    if (opts.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let res: OutboundResponse;
    let body: Buffer;
    try {
      // A POST's redirect (stop → the build page) is its answer, not something to follow. Behind
      // the outbound guard: the tool's URL (and each redirect) may not reach the platform's network.
      res = await outboundFetch(url, { method, headers, body: opts.body?.toString(), signal, redirect: method === 'POST' ? 'manual' : 'follow', maxBytes: 16 * 1024 * 1024 }, this.options.outbound);
      body = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? err;
      if (err instanceof OutboundRefusedError) throw new JenkinsRefusedError(`Jenkins at ${this.base}: ${err.message}`);
      throw new JenkinsNetworkError(url, describeNetworkError(err));
    }
    const accept = opts.accept ?? ((s: number) => s >= 200 && s < 300);
    if (!accept(res.status)) throw new JenkinsHttpError(res.status, method, url, body.toString('utf8'));
    return { status: res.status, headers: res.headers, body };
  }

  /** GET a JSON document. */
  async json<T>(url: string, signal?: AbortSignal): Promise<T> {
    const res = await this.send('GET', url, { signal });
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch {
      throw new JenkinsHttpError(res.status, 'GET', url, `not JSON: ${res.body.toString('utf8').slice(0, 200)}`);
    }
  }

  /** POST with the crumb; a 403 fetches a fresh crumb and tries once more (crumbs can expire). */
  async post(url: string, opts: { signal?: AbortSignal; body?: URLSearchParams; accept?: (status: number) => boolean } = {}): Promise<JenkinsResponse> {
    try {
      return await this.send('POST', url, opts);
    } catch (err) {
      if (!(err instanceof JenkinsHttpError) || err.status !== 403 || this.crumb === null) throw err;
      this.crumb = undefined;
      return this.send('POST', url, opts);
    }
  }

  private async getCrumb(signal?: AbortSignal): Promise<Record<string, string>> {
    if (this.crumb === undefined) {
      const url = `${this.base}crumbIssuer/api/json`;
      try {
        const { crumbRequestField, crumb } = await this.json<{ crumbRequestField: string; crumb: string }>(url, signal);
        this.crumb = { [crumbRequestField]: crumb };
      } catch (err) {
        // No crumb issuer: CSRF protection is off, POSTs go without.
        if (err instanceof JenkinsHttpError && err.status === 404) this.crumb = null;
        else throw err;
      }
    }
    return this.crumb ?? {};
  }

  /**
   * Runs `fn` until it succeeds, retrying transient failures with `backoff` for up to the retry
   * window (counted from the first failure of a streak); other errors go through at once.
   */
  async retrying<T>(what: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    let since: number | undefined;
    const backoff = new Backoff();
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!isTransient(err) || signal.aborted) throw err;
        if (since === undefined) {
          since = Date.now();
          this.options.onRetry?.(`Jenkins did not answer while ${what} (${(err as Error).message}); retrying for up to ${Math.round(this.retryWindowMs / 1000)} s`);
        }
        if (Date.now() - since >= this.retryWindowMs) throw err;
        await wait(backoff.next(), signal);
      }
    }
  }

  /** The BuildFailure that says what to fix for an error of this client. */
  failure(err: unknown, job?: string): BuildFailure {
    const tool = this.tool;
    if (err instanceof JenkinsHttpError) {
      if (err.status === 401 || err.status === 403) {
        return new BuildFailure(`Jenkins at ${tool.url} refused the credentials of build tool ${tool.name} (${err.status}): check its user and API token`);
      }
      if (err.status === 404 && job !== undefined) return new BuildFailure(`Jenkins has no job "${job}"`);
      return new BuildFailure(err.message);
    }
    if (err instanceof JenkinsNetworkError) {
      return new BuildFailure(`cannot reach Jenkins at ${err.url} (build tool ${tool.name}): ${err.reason}; check its URL and that Jenkins is running`);
    }
    if (err instanceof BuildFailure) return err;
    return new BuildFailure(`Jenkins build failed: ${(err as Error)?.message ?? String(err)}`);
  }
}
