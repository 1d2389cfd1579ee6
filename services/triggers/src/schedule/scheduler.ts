import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { listTags, parseImageReference, tagDigests } from '@pipewright/kube';
import { MessageBus } from '@pipewright/messaging';
import { leaseOwner, WakeLoop } from '@pipewright/persistence';
import { outboundFetch } from '@pipewright/platform';
import { DataSource } from 'typeorm';
import { TRIGGERS_CONFIG, type Config } from '../config';
import { registryHostOf } from '../triggers/delivery-processor';
import { storeDelivery } from '../triggers/delivery-store';
import type { ScheduleEvent } from '../triggers/events';
import { matches, type CronConfig, type ImagePushConfig } from '../triggers/trigger-config';
import { TriggerEntity } from '../triggers/trigger.entity';
import { nextCronTime } from '../triggers/trigger.service';
import { Leadership } from './leadership';

/** Most times one schedule is walked through in a pass (an every-second schedule after a long outage). */
const MAX_OCCURRENCES = 10_000;

export interface Fire {
  at: Date;
  missed: number;
}

/**
 * The times of a schedule after `from` up to `now` that fire: those at most `graceMs` late fire as
 * they are; the older ones were missed, and `missedRuns` says what they come to: SKIP nothing,
 * FIRE_ONCE one fire (at the last of them), CATCH_UP one each (the last `catchUpLimit`).
 * Also answers where the schedule stands now (`last`: the latest time reached).
 */
export function dueFires(config: CronConfig, from: Date, now: Date, graceMs: number): { fires: Fire[]; last: Date | null } {
  const missed: Date[] = [];
  const onTime: Date[] = [];
  let last: Date | null = null;
  let t = nextCronTime(config, from);
  for (let i = 0; t && t.getTime() <= now.getTime() && i < MAX_OCCURRENCES; i++) {
    (now.getTime() - t.getTime() > graceMs ? missed : onTime).push(t);
    last = t;
    t = nextCronTime(config, t);
  }
  if (t && t.getTime() <= now.getTime()) last = now; // walked MAX_OCCURRENCES: the rest counts as skipped
  let caughtUp: Fire[] = [];
  if (missed.length && config.missedRuns === 'FIRE_ONCE') caughtUp = [{ at: missed.at(-1)!, missed: missed.length }];
  if (missed.length && config.missedRuns === 'CATCH_UP') caughtUp = missed.slice(-config.catchUpLimit).map((at) => ({ at, missed: missed.length }));
  return { fires: [...caughtUp, ...onTime.map((at) => ({ at, missed: 0 }))], last };
}

/**
 * What only the leader does (Leadership: one instance of the service at a time): fires CRON
 * triggers on time (and as their missedRuns policy says for times missed while no instance ran),
 * polls the tag lists of IMAGE_PUSH triggers that ask for it, and deletes old deliveries. Each fire
 * and each new image is a delivery with a key of its own (`cron:<time>`, `poll:<tag>@<digest>`), so
 * even two leaders at once (a lock lost mid-pass) would start nothing twice.
 */
@Injectable()
export class Scheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Scheduler');
  private readonly leadership: Leadership;
  private loop?: WakeLoop;
  private retentionAt = 0;
  private polling = false;
  private readonly instance = leaseOwner('triggers');

  constructor(
    private readonly ds: DataSource,
    private readonly bus: MessageBus,
    @Inject(TRIGGERS_CONFIG) private readonly config: Config,
  ) {
    this.leadership = new Leadership(ds, config.LEADER_RETRY_MS, (leading) => leading && this.loop?.wake());
  }

  async onApplicationBootstrap() {
    this.loop = new WakeLoop({
      name: 'schedules',
      pass: () => this.pass(),
      sweepMs: 5_000,
      listen: { connection: this.ds, channels: ['pw_triggers_changed'] },
      logger: { warn: (message, fields) => this.log.warn({ message, ...fields }), error: (message, fields) => this.log.error({ message, ...fields }) },
    });
    await this.loop.start();
    this.leadership.start();
  }

  async onApplicationShutdown() {
    await this.leadership.stop();
    await this.loop?.stop();
  }

  get leading(): boolean {
    return this.leadership.leading;
  }

  private async pass(): Promise<void> {
    if (!this.leadership.leading) return;
    let nextAt = Infinity;
    const due: { id: string; type: string; polled_at: Date | null; every: number | null }[] = await this.ds.query(
      `SELECT id, type, polled_at, (config->>'pollIntervalSeconds')::int AS every FROM triggers
       WHERE enabled AND (type = 'CRON' OR (type = 'IMAGE_PUSH' AND (config->>'pollIntervalSeconds')::int > 0))`,
    );
    // Schedules first, each against the clock as it is when it is looked at: nothing slow runs in between.
    for (const { id } of due.filter((t) => t.type === 'CRON')) {
      if (!this.leadership.leading) return;
      try {
        const next = await this.fireSchedule(id, new Date());
        if (next) nextAt = Math.min(nextAt, next.getTime());
      } catch (err) {
        this.log.warn({ message: `trigger ${id}: the schedule failed; it is tried again`, error: (err as Error).message });
        nextAt = Math.min(nextAt, Date.now() + 5_000);
      }
    }
    // Polls take as long as the registries do: they run beside the schedules, never in their way.
    const polls = due.filter((t) => t.type === 'IMAGE_PUSH');
    const pollAt = (t: (typeof polls)[number]) => (t.polled_at ? new Date(t.polled_at).getTime() + (t.every ?? 0) * 1000 : 0);
    const duePolls = polls.filter((t) => pollAt(t) <= Date.now());
    for (const t of polls) nextAt = Math.min(nextAt, Math.max(pollAt(t), Date.now() + 1_000));
    if (duePolls.length && !this.polling) {
      this.polling = true;
      void this.pollAll(duePolls.map((t) => t.id)).finally(() => {
        this.polling = false;
        this.loop?.wake();
      });
    }
    if (Date.now() - this.retentionAt > 3_600_000) await this.retention();
    if (Number.isFinite(nextAt)) this.loop?.wake(Math.max(0, nextAt - Date.now()));
  }

  private async pollAll(ids: string[]): Promise<void> {
    for (const id of ids) {
      if (!this.leadership.leading) return;
      try {
        await this.poll(id, new Date());
      } catch (err) {
        this.log.warn({ message: `trigger ${id}: the tag poll failed; it is tried again at its next interval`, error: (err as Error).message });
        await this.ds.query(`UPDATE triggers SET polled_at = now() WHERE id = $1`, [id]).catch(() => undefined);
      }
    }
  }

  /** Fires what is due of one schedule; answers when it is next due. */
  private async fireSchedule(id: string, now: Date): Promise<Date | null> {
    return this.ds.transaction(async (tx) => {
      const t = await tx.getRepository(TriggerEntity).findOne({ where: { id, enabled: true }, lock: { mode: 'pessimistic_write' } });
      if (!t || t.type !== 'CRON') return null;
      const config = t.config as CronConfig;
      const { fires, last } = dueFires(config, t.scheduleFrom ?? t.createdAt, now, this.config.CRON_MISFIRE_GRACE_MS);
      for (const f of fires) {
        const event: ScheduleEvent = { scheduledAt: f.at.toISOString(), firedAt: now.toISOString(), missed: f.missed, firedBy: this.instance };
        await storeDelivery(tx, { triggerId: t.id, projectId: t.projectId, dedupeKey: `cron:${event.scheduledAt}`, providerDeliveryId: null, event: 'schedule', payload: event, receivedAt: now });
      }
      if (fires.length) this.log.log({ message: `trigger "${t.name}" fired`, triggerId: t.id, times: fires.map((f) => f.at.toISOString()), missed: fires[0]?.missed ?? 0 });
      if (last) await tx.query(`UPDATE triggers SET schedule_from = $2 WHERE id = $1`, [t.id, last.toISOString()]);
      return nextCronTime(config, now);
    });
  }

  /**
   * One poll of an IMAGE_PUSH trigger's repository: each tag that matches and is new (or points at a
   * new digest) since the last poll is a delivery. The first poll only learns what is there.
   */
  private async poll(id: string, now: Date): Promise<Date | null> {
    const t = await this.ds.getRepository(TriggerEntity).findOneBy({ id, enabled: true });
    if (!t || t.type !== 'IMAGE_PUSH') return null;
    const config = t.config as ImagePushConfig;
    const everyMs = config.pollIntervalSeconds * 1000;
    if (t.polledAt && now.getTime() - t.polledAt.getTime() < everyMs) return new Date(t.polledAt.getTime() + everyMs);
    if (/[*?]/.test(config.repository) || config.repository.startsWith('/')) {
      throw new Error(`polling needs one repository, not the pattern "${config.repository}"; use notifications for patterns`);
    }
    const registry = await this.bus.request('rpc.environments.image-registry.resolve', { id: config.registryId, projectId: t.projectId }, { timeoutMs: 5000 });
    const host = registryHostOf(registry.url);
    const image = parseImageReference(`${host}/${config.repository}`);
    const credentials = registry.username && registry.password ? { username: registry.username, password: registry.password } : null;
    const policy = this.config.OUTBOUND_ALLOW;
    // The registry's URL is the user's: every request goes through the outbound guard.
    const guarded = (async (input: string | URL | Request, init?: RequestInit) =>
      outboundFetch(String(input instanceof Request ? input.url : input), { method: init?.method, headers: init?.headers as Record<string, string>, signal: init?.signal ?? undefined }, policy)) as typeof fetch;
    const access = { credentials: async () => credentials, insecure: () => registry.insecure || registry.url.startsWith('http://'), fetch: guarded };
    const tags = (await listTags(image, access)).filter((tag) => matches(config.tag, tag));
    const digests = await tagDigests(image, tags.slice(0, 500), access);
    const failed = Object.values(digests).filter((d) => d === null).length;
    if (failed) this.log.warn({ message: `trigger "${t.name}": the digest of ${failed} of ${tags.length} tag(s) could not be read; they keep what the last poll saw`, triggerId: t.id });
    await this.ds.transaction(async (tx) => {
      const [row]: { poll_state: Record<string, string> | null }[] = await tx.query(`SELECT poll_state FROM triggers WHERE id = $1 FOR UPDATE`, [t.id]);
      if (!row) return;
      const before = row.poll_state;
      const seen: Record<string, string> = {};
      for (const [tag, digest] of Object.entries(digests)) {
        // A tag whose digest could not be read now is neither new nor changed: it keeps what was seen.
        // ('' marks a tag seen whose digest is not known yet: it is learnt, not taken for new, once read.)
        if (digest === null) {
          seen[tag] = before?.[tag] ?? '';
          continue;
        }
        seen[tag] = digest;
        if (!before || before[tag] === digest || before[tag] === '') continue;
        const event = { id: `poll:${tag}@${digest}`, action: 'push', target: { repository: config.repository, tag, digest }, source: 'poll' };
        await storeDelivery(tx, { triggerId: t.id, projectId: t.projectId, dedupeKey: `image:${tag}@${digest}`.slice(0, 500), providerDeliveryId: null, event: 'image_push', payload: event, receivedAt: now });
      }
      // The first poll learns what is there (only the tags it could read: the others are learnt later, not taken for new).
      await tx.query(`UPDATE triggers SET poll_state = $2, polled_at = $3 WHERE id = $1`, [t.id, JSON.stringify(seen), now.toISOString()]);
    });
    return new Date(now.getTime() + everyMs);
  }

  private async retention(): Promise<void> {
    this.retentionAt = Date.now();
    if (!this.config.TRIGGER_DELIVERY_RETENTION_DAYS) return;
    await this.ds.query(`DELETE FROM trigger_deliveries WHERE received_at < now() - $1::int * interval '1 day' AND status <> 'PENDING'`, [this.config.TRIGGER_DELIVERY_RETENTION_DAYS]);
  }
}
