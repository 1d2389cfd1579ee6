import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MessageBus, type Consumer } from '@pipewright/messaging';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { Config } from '../config';
import { BuildFailure, isHandOver, LEASE_LOST, SERVICE_STOPPING, type BuildResult, type ExecutorContext } from '../executors/executor';
import { executorFor } from '../executors';
import { BUILDS_CONFIG } from '../tokens';

import { BuildEntity } from './build.entity';
import { BuildLogWriter } from './build-log';
import { BuildService } from './build.service';

const SWEEP_MS = 1000;

/**
 * Takes the engine's build commands off JetStream, runs at most BUILDS_MAX_PARALLEL builds at once
 * in the order they came (the rest wait, and their logs say so), and reports each outcome through
 * the outbox. A build keeps a lease while it runs; one whose owner died (or this instance's
 * previous life) is resumed when its executor can carry on, else failed ("build service restarted").
 */
@Injectable()
export class BuildRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('BuildRunner');
  private readonly owner: string;
  private readonly active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly consumers: Consumer[] = [];
  private listener?: PoolClient;
  private running = false;
  private wake?: () => void;
  private loopDone?: Promise<void>;
  private renewTimer?: NodeJS.Timeout;

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
    this.running = true;
    await mkdir(this.config.BUILD_WORKSPACE_DIR, { recursive: true });
    const driver = this.ds.driver as unknown as { master: { connect(): Promise<PoolClient> } };
    this.listener = await driver.master.connect();
    this.listener.on('notification', () => this.wake?.());
    await this.listener.query('LISTEN pw_builds');
    // This instance's previous life left these running: nobody renews their leases any more.
    await this.ds.query(`UPDATE builds SET lease_until = now() WHERE status = 'RUNNING' AND owner LIKE $1 AND owner <> $2`, [`${this.config.BUILDS_INSTANCE_ID}/%`, this.owner]);
    // Two consumers, one subject each (NATS before 2.10 takes one filter per consumer).
    this.consumers.push(await this.bus.consume(['cmd.builds.build.start.v1'], { durable: 'builds-start', from: 'all' }, (command) => this.accept(command)));
    this.consumers.push(await this.bus.consume(['cmd.builds.build.cancel.v1'], { durable: 'builds-cancel', from: 'all' }, async ({ buildRequestId, reason }) => void (await this.builds.requestCancel(buildRequestId, reason))));
    const renewEvery = (this.config.BUILD_LEASE_SECONDS * 1000) / 3;
    this.renewTimer = setInterval(() => void this.renew().catch((e: Error) => this.log.warn({ message: 'lease renewal failed', error: e.message })), renewEvery);
    this.loopDone = this.loop();
  }

  async onApplicationShutdown() {
    this.running = false;
    if (this.renewTimer) clearInterval(this.renewTimer);
    await Promise.all(this.consumers.map((c) => c.stop()));
    this.wake?.();
    await this.loopDone;
    // Running builds stop here and are taken over after the restart (resumed or failed, by executor).
    for (const { controller } of this.active.values()) controller.abort(SERVICE_STOPPING);
    await Promise.all([...this.active.values()].map((a) => a.done));
    if (this.listener) {
      await this.listener.query('UNLISTEN pw_builds').catch(() => undefined);
      this.listener.release();
    }
  }

  private async accept(command: Parameters<BuildService['accept']>[0]) {
    const { build, created } = await this.builds.accept(command, this.config.BUILDS_MAX_PARALLEL);
    if (created && build.status === 'CANCELED') this.writer(build, build.logLines).announceEnd('CANCELED');
  }

  private writer(build: BuildEntity, from = 0) {
    return new BuildLogWriter(this.ds, this.bus, build.id, from, { chunkLines: this.config.BUILD_LOG_CHUNK_LINES, maxLine: this.config.BUILD_LOG_MAX_LINE });
  }

  private async loop() {
    while (this.running) {
      try {
        await this.checkCancels();
        while (this.running && this.active.size < this.config.BUILDS_MAX_PARALLEL) {
          const build = await this.claim();
          if (!build) break;
          this.start(build);
        }
      } catch (err) {
        this.log.error({ message: 'build scheduling failed; retrying', error: (err as Error).message });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, SWEEP_MS);
        this.wake = done;
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  }

  /** The oldest queued build, or first a running one whose owner stopped renewing its lease (taken over). */
  private async claim(): Promise<(BuildEntity & { takenOver: boolean }) | null> {
    const [rows] = await this.ds.query(
      `WITH c AS (SELECT id, status AS was FROM builds
                  WHERE status = 'QUEUED' OR (status = 'RUNNING' AND lease_until < now())
                  ORDER BY (status = 'RUNNING') DESC, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       UPDATE builds b SET status = 'RUNNING', owner = $1, lease_until = now() + ($2 || ' seconds')::interval, started_at = coalesce(b.started_at, now())
       FROM c WHERE b.id = c.id RETURNING b.id, c.was`,
      [this.owner, String(this.config.BUILD_LEASE_SECONDS)],
    );
    const row = rows[0] as { id: string; was: string } | undefined;
    if (!row) return null;
    const build = (await this.ds.getRepository(BuildEntity).findOneBy({ id: row.id }))!;
    return Object.assign(build, { takenOver: row.was === 'RUNNING' });
  }

  /** Renews the leases of the builds this instance runs; one it no longer holds (taken over after a stall) is stopped here. */
  private async renew() {
    if (!this.active.size) return;
    const [rows]: [{ id: string }[], number] = await this.ds.query(
      `UPDATE builds SET lease_until = now() + ($2 || ' seconds')::interval WHERE id = ANY($1::uuid[]) AND owner = $3 AND status = 'RUNNING' RETURNING id`,
      [[...this.active.keys()], String(this.config.BUILD_LEASE_SECONDS), this.owner],
    );
    const held = new Set(rows.map((r) => r.id));
    for (const [id, a] of this.active) {
      if (held.has(id) || a.controller.signal.aborted) continue;
      this.log.warn({ message: `lost the lease of build ${id} (another instance took it over, or it ended); stopping it here` });
      a.controller.abort(LEASE_LOST);
    }
  }

  /** Aborts the running builds someone cancelled (the flag is in the database, so any instance sees it). */
  private async checkCancels() {
    if (!this.active.size) return;
    const rows: { id: string; cancel_reason: string }[] = await this.ds.query(`SELECT id, cancel_reason FROM builds WHERE id = ANY($1::uuid[]) AND cancel_reason IS NOT NULL`, [[...this.active.keys()]]);
    for (const r of rows) {
      const a = this.active.get(r.id);
      if (a && !a.controller.signal.aborted) a.controller.abort(r.cancel_reason);
    }
  }

  private start(build: BuildEntity & { takenOver: boolean }) {
    const controller = new AbortController();
    const done = this.execute(build, controller)
      .catch((err: Error) => this.log.error({ message: `build ${build.id} could not finish`, error: err.message }))
      .finally(() => {
        this.active.delete(build.id);
        this.wake?.();
      });
    this.active.set(build.id, { controller, done });
  }

  private async execute(build: BuildEntity & { takenOver: boolean }, controller: AbortController) {
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
