import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MessageBus, type Consumer } from '@pipewright/messaging';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LeaseLostError, QueueStoppingError, rowsOf, WorkQueue, type Lease } from '@pipewright/persistence';
import { DataSource, In } from 'typeorm';
import type { Config } from '../config';
import { BuildFailure, isHandOver, LEASE_LOST, SERVICE_STOPPING, type BuildResult, type ExecutorContext } from '../executors/executor';
import { executorFor } from '../executors';
import { BUILDS_CONFIG } from '../tokens';

import { BuildEntity } from './build.entity';
import { BuildLogWriter } from './build-log';
import { BuildService } from './build.service';

/** The backstop sweep (a NOTIFY on pw_builds wakes the runner at once); it also checks for cancels. */
const SWEEP_MS = 1000;

type ClaimedBuild = BuildEntity & { takenOver: boolean };

/**
 * Takes the engine's build commands off JetStream, runs at most BUILDS_MAX_PARALLEL builds at once
 * in the order they came (the rest wait, and their logs say so), and reports each outcome through
 * the outbox. The `builds` table is the work queue (WorkQueue): a build keeps a lease while it runs,
 * renewed for all running builds at once; one whose owner died (or this instance's previous life)
 * is resumed when its executor can carry on, else failed ("build service restarted").
 */
@Injectable()
export class BuildRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('BuildRunner');
  private readonly owner: string;
  private readonly consumers: Consumer[] = [];
  private queue?: WorkQueue<ClaimedBuild>;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
    private readonly builds: BuildService,
    @Inject(BUILDS_CONFIG) private readonly config: Config,
  ) {
    this.owner = `${config.BUILDS_INSTANCE_ID}/${randomBytes(4).toString('hex')}`;
  }

  async onApplicationBootstrap() {
    if (!this.config.BUILDS_MAX_PARALLEL) return;
    await mkdir(this.config.BUILD_WORKSPACE_DIR, { recursive: true });
    const leaseMs = this.config.BUILD_LEASE_SECONDS * 1000;
    this.queue = new WorkQueue<ClaimedBuild>({
      name: 'builds',
      connection: this.ds,
      channel: 'pw_builds',
      concurrency: this.config.BUILDS_MAX_PARALLEL,
      sweepMs: SWEEP_MS,
      leaseMs,
      claim: (limit) => this.claim(limit, leaseMs),
      renew: async (ids) =>
        rowsOf<{ id: string }>(
          await this.ds.query(`UPDATE builds SET lease_until = now() + $3::float8 * interval '1 millisecond' WHERE id = ANY($1::uuid[]) AND owner = $2 AND status = 'RUNNING' RETURNING id`, [ids, this.owner, leaseMs]),
        ).map((r) => r.id),
      // The cancel flag is in the database, so a cancel reaches the build whichever instance runs it.
      cancelled: async (ids) =>
        ((await this.ds.query(`SELECT id, cancel_reason AS reason FROM builds WHERE id = ANY($1::uuid[]) AND cancel_reason IS NOT NULL`, [ids])) as { id: string; reason: string }[]),
      handle: (build, lease) => this.handle(build, lease),
      onError: (build, err) => this.log.error({ message: `build ${build.id} could not finish`, error: (err as Error).message }),
      logger: { warn: (message, context) => this.log.warn({ message, ...context }), error: (message, context) => this.log.error({ message, ...context }) },
    });
    // This instance's previous life left these running: nobody renews their leases any more.
    await this.ds.query(`UPDATE builds SET lease_until = now() WHERE status = 'RUNNING' AND owner LIKE $1 AND owner <> $2`, [`${this.config.BUILDS_INSTANCE_ID}/%`, this.owner]);
    // Two consumers, one subject each (NATS before 2.10 takes one filter per consumer).
    this.consumers.push(await this.bus.consume(['cmd.builds.build.start.v1'], { durable: 'builds-start', from: 'all' }, (command) => this.accept(command)));
    this.consumers.push(await this.bus.consume(['cmd.builds.build.cancel.v1'], { durable: 'builds-cancel', from: 'all' }, async ({ buildRequestId, reason }) => void (await this.builds.requestCancel(buildRequestId, reason))));
    await this.queue.start();
  }

  async onApplicationShutdown() {
    await Promise.all(this.consumers.map((c) => c.stop()));
    // Running builds stop here and are taken over after the restart (resumed or failed, by executor).
    await this.queue?.stop();
  }

  private async accept(command: Parameters<BuildService['accept']>[0]) {
    const { build, created } = await this.builds.accept(command, this.config.BUILDS_MAX_PARALLEL);
    if (created && build.status === 'CANCELED') this.writer(build, build.logLines).announceEnd('CANCELED');
  }

  private writer(build: BuildEntity, from = 0) {
    return new BuildLogWriter(this.ds, this.bus, build.id, from, { chunkLines: this.config.BUILD_LOG_CHUNK_LINES, maxLine: this.config.BUILD_LOG_MAX_LINE });
  }

  /** The oldest queued builds, running ones whose owner stopped renewing their lease first (taken over). */
  private async claim(limit: number, leaseMs: number): Promise<ClaimedBuild[]> {
    const rows = rowsOf<{ id: string; was: string }>(
      await this.ds.query(
        `WITH c AS (SELECT id, status AS was FROM builds
                    WHERE status = 'QUEUED' OR (status = 'RUNNING' AND lease_until < now())
                    ORDER BY (status = 'RUNNING') DESC, created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
         UPDATE builds b SET status = 'RUNNING', owner = $1, lease_until = now() + $2::float8 * interval '1 millisecond', started_at = coalesce(b.started_at, now())
         FROM c WHERE b.id = c.id RETURNING b.id, c.was`,
        [this.owner, leaseMs, limit],
      ),
    );
    if (!rows.length) return [];
    const was = new Map(rows.map((r) => [r.id, r.was]));
    const builds = await this.ds.getRepository(BuildEntity).find({ where: { id: In([...was.keys()]) }, order: { createdAt: 'ASC', id: 'ASC' } });
    return builds.map((b) => Object.assign(b, { takenOver: was.get(b.id) === 'RUNNING' })).sort((a, b) => Number(b.takenOver) - Number(a.takenOver));
  }

  /** Runs one build; the queue's abort (lease lost, service stopping, cancel) reaches the executor in the terms it knows. */
  private async handle(build: ClaimedBuild, lease: Lease) {
    const controller = new AbortController();
    const forward = () => {
      const reason: unknown = lease.signal.reason;
      controller.abort(reason instanceof LeaseLostError ? LEASE_LOST : reason instanceof QueueStoppingError ? SERVICE_STOPPING : reason);
    };
    if (lease.signal.aborted) forward();
    else lease.signal.addEventListener('abort', forward, { once: true });
    try {
      await this.execute(build, controller);
    } finally {
      lease.signal.removeEventListener('abort', forward);
    }
  }

  private async execute(build: ClaimedBuild, controller: AbortController) {
    const log = this.writer(build, build.logLines);
    const executor = executorFor(build.stageType);
    const workspace = join(this.config.BUILD_WORKSPACE_DIR, build.id);
    let state = build.state;
    const ctx: ExecutorContext = {
      buildId: build.id,
      number: build.number,
      command: build.command,
      log,
      signal: controller.signal,
      workspace,
      request: this.bus.request.bind(this.bus),
      get state() {
        return state;
      },
      saveState: async (next) => {
        state = next;
        await this.ds.query(`UPDATE builds SET state = $2 WHERE id = $1`, [build.id, JSON.stringify(next)]);
      },
      tools: { git: this.config.GIT_BIN, helm: this.config.HELM_BIN, buildah: this.config.BUILDAH_BIN, buildahStorageDriver: this.config.BUILDAH_STORAGE_DRIVER },
      outbound: this.config.OUTBOUND_ALLOW,
      buildNetwork: this.config.BUILD_NETWORK,
      buildDns: this.config.BUILD_DNS,
    };
    if (build.takenOver && !executor.resumable) {
      log.line('the build service restarted while this build ran; a build of this kind cannot be resumed');
      await executor.abandon?.(ctx).catch((e: Error) => this.log.warn({ message: `cleaning up after build ${build.id} failed`, error: e.message }));
      await rm(workspace, { recursive: true, force: true }).catch(() => undefined);
      await log.flush();
      await this.builds.finish(build.id, { status: 'FAILED', error: 'build service restarted while the build ran; run the stage again' });
      log.announceEnd('FAILED');
      return;
    }
    log.line(build.takenOver ? `resuming build #${build.number} after a restart of the build service` : `build #${build.number} of stage ${build.refId} (${build.stageType}), run ${build.runNumber}: started`);
    await rm(workspace, { recursive: true, force: true });
    await mkdir(workspace, { recursive: true });
    let result: BuildResult;
    try {
      result = await executor.run(ctx);
    } catch (err) {
      result = err instanceof BuildFailure ? { status: 'FAILED', error: err.message, outputs: err.outputs } : { status: 'FAILED', error: `the build failed unexpectedly: ${(err as Error).message}` };
    } finally {
      await rm(workspace, { recursive: true, force: true }).catch(() => undefined);
    }
    if (controller.signal.aborted && isHandOver(controller.signal.reason)) {
      await log.flush(); // left to the instance that holds (or will hold) the lease
      return;
    }
    if (controller.signal.aborted && result.status !== 'SUCCEEDED') result = { status: 'CANCELED', error: `canceled: ${String(controller.signal.reason)}`, outputs: result.outputs };
    const outputs = result.outputs ?? {};
    log.line(result.status === 'SUCCEEDED' ? `build #${build.number} SUCCEEDED${result.warning ? ` with a warning: ${result.warning}` : ''}` : `build #${build.number} ${result.status}: ${result.error}`);
    await log.flush();
    // Errors quote tool output: masked like the log, since they reach the run's stage and GraphQL.
    await this.builds.finish(build.id, {
      status: result.status,
      outputs,
      error: result.status === 'SUCCEEDED' ? null : log.mask(result.error),
      warning: result.status === 'SUCCEEDED' && result.warning ? log.mask(result.warning) : null,
      image: typeof outputs.reference === 'string' ? outputs.reference : null,
      digest: typeof outputs.digest === 'string' ? outputs.digest : null,
    });
    log.announceEnd(result.status);
  }
}
