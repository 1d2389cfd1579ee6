import type { stageDefinitions } from '@pipewright/contracts';
import { NO_SECRETS, type Secrets } from '@pipewright/platform';
import type { z } from 'zod';
import { resolveResource, resolveSecrets, SecretMissing } from './environment';
import { abortReasonText, BuildFailure, isHandOver, stageConfig, type BuildExecutor, type BuildResult, type ExecutorContext } from './executor';
import { Backoff, JenkinsClient, JenkinsHttpError, JenkinsNetworkError, wait } from './jenkins-client';
import { ConsoleLines } from './jenkins-console';

type JenkinsStage = Extract<(typeof stageDefinitions)[number], { type: 'BUILD_JENKINS' }>;
export type JenkinsConfig = z.output<JenkinsStage['config']>;

/** What `ctx.saveState` holds, so a restarted service follows the same build instead of triggering another. */
export interface JenkinsState {
  queueUrl?: string;
  queueId?: number;
  buildNumber?: number;
  buildUrl?: string;
  consoleOffset?: number;
  consolePending?: string;
}

interface QueueItem {
  id?: number;
  cancelled?: boolean;
  why?: string | null;
  executable?: { number?: number; url?: string } | null;
}

interface BuildJson {
  number: number;
  url?: string;
  building: boolean;
  result: string | null;
  queueId?: number;
}

/** Triggers a Jenkins job, follows its queue item and build, streams its console and maps its result. */
export const jenkinsExecutor: BuildExecutor = {
  type: 'BUILD_JENKINS',
  resumable: true,
  run: (ctx) => new JenkinsBuild(ctx).run(),
};

class JenkinsBuild {
  private readonly state: JenkinsState;
  private config!: JenkinsConfig;
  private client?: JenkinsClient;
  /** `${secrets.NAME}` in the parameters: filled in for the trigger only, masked in the log (also after a restart) and in errors. */
  private secrets: Secrets = NO_SECRETS;

  constructor(private readonly ctx: ExecutorContext) {
    this.state = { ...(ctx.state as JenkinsState) };
  }

  async run(): Promise<BuildResult> {
    const { ctx } = this;
    const parsed = stageConfig<JenkinsConfig>(ctx, 'BUILD_JENKINS');
    if ('failure' in parsed) return parsed.failure;
    this.config = parsed.config;
    try {
      const tool = await resolveResource(ctx, 'build-tool', this.config.buildToolId, 'buildToolId');
      this.client = new JenkinsClient(tool, { onRetry: (message) => ctx.log.line(message), outbound: ctx.outbound });
      this.secrets = await this.parameterSecrets();
      if (ctx.signal.aborted) return await this.cancel();
      if (this.state.buildNumber === undefined) {
        if (this.state.queueId === undefined) await this.trigger();
        else ctx.log.line(`resuming: waiting for Jenkins queue item ${this.state.queueId} of ${this.config.job}`);
        const cancelled = await this.waitForStart();
        if (cancelled) return cancelled;
      } else {
        ctx.log.line(`resuming ${this.config.job} #${this.state.buildNumber}: ${this.state.buildUrl}`);
      }
      if (!this.config.waitForCompletion) {
        ctx.log.line('not waiting for the build to finish (waitForCompletion is off)');
        return { status: 'SUCCEEDED', outputs: { buildNumber: this.state.buildNumber, buildUrl: this.state.buildUrl, job: this.config.job } };
      }
      return this.outcome(await this.follow());
    } catch (err) {
      if (ctx.signal.aborted) return this.cancel();
      // Jenkins' answers become a reason that names the fix; anything else (saveState failing) is not ours to judge.
      const jenkinsError = err instanceof JenkinsHttpError || err instanceof JenkinsNetworkError;
      const failure = err instanceof BuildFailure ? err : jenkinsError && this.client ? this.client.failure(err) : undefined;
      if (!failure) throw err;
      return { status: 'FAILED', error: this.secrets.mask(failure.message), outputs: failure.outputs ?? this.outputs() };
    }
  }

  /**
   * The secrets the parameters name. Once the build was triggered (a resume after a restart), a
   * failure to read them does not fail the stage (the Jenkins build runs on, and is followed): it
   * is tried again a few times, then the build goes on, saying its console is no longer masked.
   */
  private async parameterSecrets(): Promise<Secrets> {
    const texts = Object.values(this.config.parameters);
    if (this.state.queueId === undefined) return resolveSecrets(this.ctx, 'parameters', ...texts);
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= 4; attempt++) {
      try {
        return await resolveSecrets(this.ctx, 'parameters', ...texts);
      } catch (err) {
        if (!(err instanceof BuildFailure)) throw err;
        lastError = err;
        if (err instanceof SecretMissing) break;
        await wait(1000 * 2 ** (attempt - 1), this.ctx.signal);
      }
    }
    this.ctx.log.line(`could not read the secrets of the parameters again after the restart (${lastError?.message}): what the Jenkins console prints of them is not masked from here on`);
    return NO_SECRETS;
  }

  private outputs(result?: string | null): Record<string, unknown> | undefined {
    if (this.state.buildNumber === undefined) return undefined;
    return { buildNumber: this.state.buildNumber, buildUrl: this.state.buildUrl, result: result ?? null, job: this.config.job };
  }

  private jobUrl(): string {
    return this.client!.jobUrl(this.config.job);
  }

  /** Where this client reaches the build: built from the job URL we use, not Jenkins' own root URL setting. */
  private buildApiUrl(): string {
    return `${this.jobUrl()}${this.state.buildNumber}/`;
  }

  private queueApiUrl(): string {
    return `${this.client!.base}queue/item/${this.state.queueId}/api/json`;
  }

  private async save(extra: Partial<JenkinsState> = {}): Promise<void> {
    Object.assign(this.state, extra);
    await this.ctx.saveState({ ...this.state });
  }

  /** POSTs build / buildWithParameters once (never retried: a repeat could start a second build). */
  private async trigger(): Promise<void> {
    const client = this.client!;
    const { job, parameters } = this.config;
    const hasParameters = Object.keys(parameters).length > 0;
    const url = `${this.jobUrl()}${hasParameters ? 'buildWithParameters' : 'build'}`;
    let location: string | null;
    try {
      // Not tied to ctx.signal: once sent, we want the queue item, to cancel it if the run was cancelled meanwhile.
      const filled = Object.fromEntries(Object.entries(parameters).map(([name, value]) => [name, this.secrets.fill(value)]));
      const res = await client.post(url, { body: hasParameters ? new URLSearchParams(filled) : undefined });
      location = res.headers.get('location');
    } catch (err) {
      if (err instanceof JenkinsHttpError && err.status !== 401 && err.status !== 403 && err.status !== 404) {
        throw new BuildFailure(`Jenkins refused to build "${job}" (${err.status}): ${err.body.trim().split('\n')[0] || 'no message'}`);
      }
      throw client.failure(err, job);
    }
    const id = location ? /\/queue\/item\/(\d+)/.exec(new URL(location, client.base).pathname)?.[1] : undefined;
    if (!location || !id) throw new BuildFailure(`Jenkins queued "${job}" but did not say where (Location: ${location ?? 'none'}); Jenkins 1.519 or later is needed`);
    await this.save({ queueUrl: new URL(location, client.base).toString(), queueId: Number(id) });
  }

  /** Polls the queue item until the build has a number; returns a result only when Jenkins cancelled the item. */
  private async waitForStart(): Promise<BuildResult | undefined> {
    const { ctx } = this;
    const client = this.client!;
    const backoff = new Backoff();
    let lastWhy: string | null | undefined;
    for (;;) {
      let item: QueueItem;
      try {
        item = await client.retrying('waiting for the queue item', ctx.signal, () => client.json<QueueItem>(this.queueApiUrl(), ctx.signal));
      } catch (err) {
        if (!(err instanceof JenkinsHttpError) || err.status !== 404) throw err;
        // Jenkins forgets queue items a few minutes after they leave the queue (a long restart of ours).
        const found = await this.findBuildOfQueueItem();
        if (!found) throw new BuildFailure(`Jenkins forgot queue item ${this.state.queueId} of "${this.config.job}" and no recent build of the job came from it`);
        item = { executable: found };
      }
      if (item.executable?.number !== undefined) {
        const buildNumber = item.executable.number;
        const buildUrl = item.executable.url ?? `${this.jobUrl()}${buildNumber}/`;
        await this.save({ buildNumber, buildUrl, consoleOffset: 0 });
        ctx.log.line(`triggered ${this.config.job} #${buildNumber}: ${buildUrl}`);
        return undefined;
      }
      if (item.cancelled) {
        return { status: 'CANCELED', error: `Jenkins cancelled queue item ${this.state.queueId} of "${this.config.job}" before it started` };
      }
      if (item.why && item.why !== lastWhy) ctx.log.line(`waiting in the Jenkins queue: ${item.why}`);
      lastWhy = item.why;
      await wait(backoff.next(), ctx.signal);
    }
  }

  private async findBuildOfQueueItem(): Promise<{ number: number; url?: string } | undefined> {
    const client = this.client!;
    const signal = this.ctx.signal;
    const job = await client.retrying('looking for the build', signal, () =>
      client.json<{ builds?: { number: number; url?: string; queueId?: number }[] }>(`${this.jobUrl()}api/json?tree=builds[number,url,queueId]{0,20}`, signal),
    );
    for (const b of (job.builds ?? []).slice(0, 20)) {
      const queueId = b.queueId ?? (await client.retrying('looking for the build', signal, () => client.json<BuildJson>(`${this.jobUrl()}${b.number}/api/json`, signal))).queueId;
      if (queueId === this.state.queueId) return { number: b.number, url: b.url };
    }
    return undefined;
  }

  /** Polls the build until it ends, streaming its console; returns its final JSON. */
  private async follow(): Promise<BuildJson> {
    const { ctx } = this;
    const client = this.client!;
    const consoleLines = new ConsoleLines(this.state);
    const backoff = new Backoff();
    for (;;) {
      let build: BuildJson;
      try {
        build = await client.retrying('following the build', ctx.signal, () => client.json<BuildJson>(`${this.buildApiUrl()}api/json`, ctx.signal));
      } catch (err) {
        if (err instanceof JenkinsHttpError && err.status === 404) {
          throw new BuildFailure(`Jenkins has no build ${this.config.job} #${this.state.buildNumber} any more (deleted?): ${this.state.buildUrl}`, this.outputs());
        }
        throw err;
      }
      const more = await this.pumpConsole(consoleLines);
      if (!build.building && !more) {
        for (const line of consoleLines.flush()) ctx.log.line(line);
        await this.save(consoleLines.state(this.secrets.values.length === 0));
        return build;
      }
      await wait(backoff.next(), ctx.signal);
    }
  }

  /** Writes the console lines Jenkins has beyond our offset; returns whether Jenkins says more will come. */
  private async pumpConsole(consoleLines: ConsoleLines): Promise<boolean> {
    const { ctx } = this;
    const client = this.client!;
    const res = await client.retrying('reading the console', ctx.signal, () =>
      client.send('GET', `${this.buildApiUrl()}logText/progressiveText?start=${consoleLines.offset}`, { signal: ctx.signal }),
    );
    const before = consoleLines.offset;
    const lines = consoleLines.push(res.body, res.headers.get('x-text-size'));
    for (const line of lines) ctx.log.line(line);
    // The lines are stored before the offset past them is: a crash in between repeats lines, never loses them.
    if (lines.length) await ctx.log.flush();
    if (consoleLines.offset !== before || lines.length) await this.save(consoleLines.state(this.secrets.values.length === 0));
    return res.headers.get('x-more-data') === 'true';
  }

  private outcome(build: BuildJson): BuildResult {
    const { job, failOnUnstable } = this.config;
    const n = this.state.buildNumber;
    const url = this.state.buildUrl;
    const outputs = this.outputs(build.result)!;
    switch (build.result) {
      case 'SUCCESS':
        return { status: 'SUCCEEDED', outputs };
      case 'UNSTABLE':
        if (failOnUnstable) return { status: 'FAILED', error: `Jenkins marked build ${job} #${n} UNSTABLE and failOnUnstable is set: ${url}`, outputs };
        return { status: 'SUCCEEDED', outputs, warning: `Jenkins marked build #${n} UNSTABLE` };
      case 'FAILURE':
        return { status: 'FAILED', error: `Jenkins build ${job} #${n} failed: ${url}`, outputs };
      case 'ABORTED':
        return { status: 'CANCELED', error: `Jenkins build ${job} #${n} was aborted in Jenkins: ${url}`, outputs };
      default:
        return { status: 'FAILED', error: `Jenkins build ${job} #${n} ended ${build.result ?? 'without a result'}: ${url}`, outputs };
    }
  }

  /** The run was cancelled: stop the build (or cancel the queue item); a stopping service leaves it running. */
  private async cancel(): Promise<BuildResult> {
    const { ctx } = this;
    const reason = abortReasonText(ctx.signal.reason);
    const client = this.client;
    if (!client || isHandOver(ctx.signal.reason)) {
      if (this.state.queueId !== undefined) ctx.log.line('the builds service is stopping: the Jenkins build goes on and is followed again after the restart');
      return { status: 'CANCELED', error: reason, outputs: this.outputs() };
    }
    const accept = (s: number) => (s >= 200 && s < 400) || s === 404;
    try {
      if (this.state.buildNumber === undefined && this.state.queueId !== undefined) {
        await client.post(`${client.base}queue/cancelItem?id=${this.state.queueId}`, { accept });
        ctx.log.line(`cancelled Jenkins queue item ${this.state.queueId} of ${this.config.job}`);
        // It may have started just before the cancel reached it.
        const item = await client.json<QueueItem>(this.queueApiUrl()).catch(() => undefined);
        if (item?.executable?.number !== undefined) {
          await this.save({ buildNumber: item.executable.number, buildUrl: item.executable.url ?? `${this.jobUrl()}${item.executable.number}/` });
        }
      }
      if (this.state.buildNumber !== undefined) {
        await client.post(`${this.buildApiUrl()}stop`, { accept });
        ctx.log.line(`asked Jenkins to stop ${this.config.job} #${this.state.buildNumber}`);
      }
    } catch (err) {
      ctx.log.line(`could not stop the Jenkins build: ${client.failure(err).message}`);
    }
    return { status: 'CANCELED', error: reason, outputs: this.outputs() };
  }
}
