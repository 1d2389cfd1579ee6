import { MessageValidationError } from '@pipewright/contracts';
import { MessageBus, QueryError, type BusLogger } from '../src';
import { connectTestNats, deleteStreams, uniquePrefix } from '@pipewright/testing';
import type { NatsConnection } from 'nats';

const SUBJECT = 'evt.environments.build-tool.changed.v1' as const;

function recordingLogger() {
  const entries: { level: string; message: string; context?: Record<string, unknown> }[] = [];
  const log: BusLogger = {
    warn: (message, context) => entries.push({ level: 'warn', message, context }),
    error: (message, context) => entries.push({ level: 'error', message, context }),
  };
  return { log, entries };
}

const validPayload = (name: string) => ({
  id: '6f1c1f3e-8a36-4a4e-9a43-0d7c1b2f1e11',
  name,
  change: 'created' as const,
  by: 'alice',
  at: new Date().toISOString(),
});

describe('MessageBus against real NATS', () => {
  let nc: NatsConnection;
  let prefix: string;
  let bus: MessageBus;
  const { log, entries } = recordingLogger();

  beforeAll(async () => {
    nc = await connectTestNats('message-bus-spec');
    prefix = uniquePrefix('bus');
    bus = new MessageBus(nc, prefix, 'environments', log);
    await bus.ensureStreams();
  });
  afterAll(async () => {
    await deleteStreams(nc, prefix);
    await nc.close();
  });

  it('creates its streams idempotently, named after the prefix', async () => {
    await bus.ensureStreams();
    const jsm = await nc.jetstreamManager();
    const events = await jsm.streams.info(`${prefix.toUpperCase()}_EVENTS`);
    const commands = await jsm.streams.info(`${prefix.toUpperCase()}_COMMANDS`);
    expect(events.config.subjects).toEqual([`${prefix}.evt.>`]);
    expect(commands.config.subjects).toEqual([`${prefix}.cmd.>`]);
    expect(commands.config.retention).toBe('workqueue');
  });

  it('refuses to publish a payload that violates its schema, naming the field', async () => {
    const bad = { ...validPayload('x'), id: 'not-a-uuid', change: 'renamed' } as never;
    const err = await bus.publish(SUBJECT, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MessageValidationError);
    expect((err as Error).message).toContain(`invalid payload for ${SUBJECT}`);
    expect((err as MessageValidationError).issues.map((i) => i.path)).toEqual(['id', 'change']);
  });

  it('delivers valid events to a durable consumer and terminates an invalid one without stopping', async () => {
    const received: string[] = [];
    let resolveSecond!: () => void;
    const secondArrived = new Promise<void>((r) => (resolveSecond = r));
    const consumer = await bus.consume([SUBJECT], { durable: 'spec-validator' }, async (payload) => {
      received.push(payload.name);
      if (received.length === 2) resolveSecond();
    });
    try {
      await bus.publish(SUBJECT, validPayload('first'));
      // Someone bypasses the typed bus and publishes garbage on the subject.
      const js = nc.jetstream();
      const badAck = await js.publish(`${prefix}.${SUBJECT}`, new TextEncoder().encode(JSON.stringify({ id: 42 })));
      await bus.publish(SUBJECT, validPayload('second'));
      await secondArrived;

      expect(received).toEqual(['first', 'second']);
      const warning = entries.find((e) => e.level === 'warn' && e.message.includes(`stream seq ${badAck.seq}`));
      expect(warning?.message).toMatch(/terminated an invalid message/);
      expect(String(warning?.context?.error)).toMatch(/id: Expected string, received number/);

      // Terminated, not left pending: nothing is waiting for an ack or a redelivery.
      const jsm = await nc.jetstreamManager();
      const info = await jsm.consumers.info(bus.names.eventsStream, 'spec-validator');
      expect(info.num_ack_pending).toBe(0);
      expect(info.num_pending).toBe(0);
      expect(info.num_redelivered).toBe(0);
    } finally {
      await consumer.stop();
    }
  });

  it('redelivers an event whose handler failed', async () => {
    const attempts: number[] = [];
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const consumer = await bus.consume([SUBJECT], { durable: 'spec-retry', retryDelayMs: 10 }, async (_payload, delivery) => {
      attempts.push(delivery.deliveryCount);
      if (attempts.length === 1) throw new Error('transient failure');
      resolveDone();
    });
    try {
      await bus.publish(SUBJECT, validPayload('retry-me'));
      await done;
      expect(attempts).toEqual([1, 2]);
    } finally {
      await consumer.stop();
    }
  });

  it('answers queries with validated replies, and reports a bad request by code', async () => {
    const sub = bus.answer('rpc.environments.ping', () => ({ service: 'environments' as const, at: new Date().toISOString() }));
    try {
      const reply = await bus.request('rpc.environments.ping', { from: 'spec' });
      expect(reply.service).toBe('environments');

      const err = await bus.request('rpc.environments.ping', { from: 7 } as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MessageValidationError); // refused before it leaves

      const raw = await nc.request(`${prefix}.rpc.environments.ping`, new TextEncoder().encode('{"from":7}'));
      const envelope = JSON.parse(new TextDecoder().decode(raw.data));
      expect(envelope).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      expect(envelope.error.message).toMatch(/from: Expected string/);
    } finally {
      sub.unsubscribe();
    }
  });

  it('turns a handler error into a QueryError for the requester, without leaking details', async () => {
    const sub = bus.answer('rpc.builds.ping', () => {
      throw new Error('database password is hunter2');
    });
    try {
      const err = (await bus.request('rpc.builds.ping', { from: 'spec' }).catch((e: unknown) => e)) as QueryError;
      expect(err).toBeInstanceOf(QueryError);
      expect(err.code).toBe('INTERNAL');
      expect(err.message).not.toContain('hunter2');
    } finally {
      sub.unsubscribe();
    }
  });
});
