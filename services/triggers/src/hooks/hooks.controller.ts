import { Controller, HttpCode, Logger, Param, Post, Req, Res } from '@nestjs/common';
import { isUuid } from '@pipewright/contracts';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { storeDelivery, type NewDelivery } from '../triggers/delivery-store';
import { TriggerEntity } from '../triggers/trigger.entity';
import { TriggerService } from '../triggers/trigger.service';
import { verifyDelivery } from './verify';

/** The provider headers kept with a delivery (what it is and who sent it; never a secret). */
const KEPT_HEADERS = ['content-type', 'user-agent', 'x-github-event', 'x-github-delivery', 'x-github-hook-id', 'x-gitlab-event', 'x-gitlab-event-uuid', 'x-gitlab-instance', 'idempotency-key', 'x-delivery-id'];

/** The most events one registry notification may carry. */
const MAX_REGISTRY_EVENTS = 500;

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** What the provider calls the event: GitHub's X-GitHub-Event, GitLab's X-Gitlab-Event in GitHub's words. */
function eventName(type: TriggerEntity['type'], headers: Request['headers']): string {
  if (type === 'IMAGE_PUSH') return 'image_push';
  if (type === 'WEBHOOK') return 'webhook';
  const github = one(headers['x-github-event']);
  if (github) return github.slice(0, 100);
  const gitlab = one(headers['x-gitlab-event']);
  if (gitlab === 'Push Hook') return 'push';
  if (gitlab === 'Tag Push Hook') return 'tag_push';
  if (gitlab === 'System Hook') return 'system';
  return (gitlab ?? 'unknown').toLowerCase().replace(/\s+hook$/, '').replace(/\s+/g, '_').slice(0, 100);
}

/** The payload of a body: JSON, or GitHub's form encoding (`payload=<json>`). */
function parseBody(body: Buffer, contentType: string | undefined): unknown {
  const text = body.toString('utf8');
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw new Error('a form-encoded body without a payload field');
    return JSON.parse(payload);
  }
  return JSON.parse(text);
}

/**
 * `POST /hooks/<trigger id>` (the gateway forwards its own `/hooks/*` here): the delivery is
 * verified, stored and answered `202` at once; it is processed from the queue. A delivery id
 * seen before stores nothing and answers `200`; a bad signature or token is recorded and `401`.
 */
@Controller('hooks')
export class HooksController {
  private readonly log = new Logger('Hooks');

  constructor(
    private readonly ds: DataSource,
    private readonly triggers: TriggerService,
  ) {}

  @Post(':id')
  @HttpCode(202)
  async receive(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const trigger = isUuid(id) ? await this.ds.getRepository(TriggerEntity).findOneBy({ id }) : null;
    if (!trigger) return void res.status(404).json({ error: `no trigger with id "${id.slice(0, 80)}": check the hook URL (Trigger.hookUrl)` });
    const secret = this.triggers.openSecret(trigger);
    if (!secret) return void res.status(404).json({ error: `trigger "${trigger.name}" is a ${trigger.type} trigger: it takes no hook deliveries` });
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const headers = Object.fromEntries(KEPT_HEADERS.flatMap((h) => (one(req.headers[h]) !== undefined ? [[h, String(one(req.headers[h])).slice(0, 500)]] : [])));
    const event = eventName(trigger.type, req.headers);
    const base = { triggerId: trigger.id, projectId: trigger.projectId, headers, event } as const;
    const providerId = (one(req.headers['x-github-delivery']) ?? one(req.headers['x-gitlab-event-uuid']) ?? one(req.headers['idempotency-key']) ?? one(req.headers['x-delivery-id']) ?? null)?.slice(0, 200) ?? null;
    const refuse = async (status: number, reason: string) => {
      // Recorded (without the payload), but at most one every few seconds per trigger: whoever knows
      // a trigger's id can send bad deliveries, and must not fill its history or the table.
      await this.ds.transaction(async (tx) => {
        const recent = await tx.query(`SELECT 1 FROM trigger_deliveries WHERE trigger_id = $1 AND status = 'REJECTED' AND payload IS NULL AND received_at > now() - interval '5 seconds' LIMIT 1`, [trigger.id]);
        if (!recent.length) await storeDelivery(tx, { ...base, dedupeKey: null, providerDeliveryId: providerId, payload: null, status: 'REJECTED', reason });
      });
      this.log.warn({ message: 'a hook delivery was refused', triggerId: trigger.id, status, reason });
      res.status(status).json({ error: reason });
    };
    const verified = verifyDelivery(trigger.type === 'GIT_PUSH' || trigger.type === 'GIT_TAG' ? 'git' : 'bearer', secret, req.headers, body);
    if (!verified.ok) return refuse(401, verified.reason);
    let payload: unknown;
    try {
      payload = parseBody(body, one(req.headers['content-type']));
    } catch (err) {
      return refuse(400, `the body is not JSON: ${(err as Error).message.slice(0, 200)}`);
    }
    const status = trigger.enabled ? undefined : 'IGNORED';
    const reason = trigger.enabled ? null : 'the trigger is disabled';
    const deliveries: NewDelivery[] = [];
    if (trigger.type === 'IMAGE_PUSH') {
      // A registry notification carries a batch of events: each image (manifest) push with a tag is a delivery of its own.
      const events = Array.isArray((payload as { events?: unknown })?.events) ? (payload as { events: unknown[] }).events : [];
      if (events.length > MAX_REGISTRY_EVENTS) return refuse(413, `a notification of ${events.length} events; at most ${MAX_REGISTRY_EVENTS} are taken at once (lower the endpoint's batch in the registry's notifications settings)`);
      for (const e of events) {
        const ev = e as { id?: unknown; action?: unknown; target?: { tag?: unknown; digest?: unknown } };
        if (ev?.action !== 'push' || typeof ev.target?.tag !== 'string' || typeof ev.target.digest !== 'string' || typeof ev.id !== 'string') continue;
        // Keyed by what was pushed: a repeated event, or the same image found by a poll, starts nothing twice.
        deliveries.push({ ...base, dedupeKey: `image:${ev.target.tag}@${ev.target.digest}`.slice(0, 500), providerDeliveryId: ev.id.slice(0, 200), payload: e, status, reason });
      }
      if (!deliveries.length) return void res.status(200).json({ deliveries: [], note: 'no image push with a tag in this notification: nothing to do' });
    } else {
      deliveries.push({ ...base, dedupeKey: providerId ? `provider:${providerId}` : null, providerDeliveryId: providerId, payload, status, reason });
    }
    let stored: { id: string; duplicate: boolean }[];
    try {
      stored = await this.ds.transaction(async (tx) => {
        const out = [];
        for (const d of deliveries) out.push(await storeDelivery(tx, d));
        return out;
      });
    } catch (err) {
      // PostgreSQL's JSON holds no \u0000 and no lone surrogate (invalid text, 22P05 / 22021).
      if (['22P05', '22021', '22P02'].includes((err as { code?: string }).code ?? '')) return refuse(400, 'the payload holds text that cannot be stored (\\u0000 or a lone surrogate)');
      throw err;
    }
    const fresh = stored.some((s) => !s.duplicate);
    res.status(fresh ? 202 : 200).json({
      deliveries: stored.map((s) => ({ id: s.id, duplicate: s.duplicate })),
      ...(fresh ? {} : { note: 'already received: nothing new is started' }),
    });
  }
}
