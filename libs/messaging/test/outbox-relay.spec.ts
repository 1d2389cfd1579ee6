import { MessageBus, OutboxRelay, type BusLogger } from '../src';
import { createDataSource, openDatabase, OutboxEntity, writeOutbox } from '@pipewright/persistence';
import { connectTestNats, deleteStreams, freshDatabase, uniquePrefix, waitFor, type TestDatabase } from '@pipewright/testing';
import type { NatsConnection } from 'nats';
import { IsNull, type DataSource } from 'typeorm';

const SUBJECT = 'evt.environments.image-registry.changed.v1' as const;
const quiet: BusLogger = { warn: () => undefined, error: () => undefined };

const payload = (name: string) => ({
  id: 'a3bb189e-8bf9-3888-9912-ace4e6543002',
  name,
  change: 'updated' as const,
  by: 'alice',
  at: new Date().toISOString(),
});

describe('the transactional outbox and its relay (real PostgreSQL and JetStream)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let nc: NatsConnection;
  let bus: MessageBus;
  let prefix: string;

  beforeAll(async () => {
    db = await freshDatabase('outbox');
    ds = await openDatabase(createDataSource({ url: db.url }));
    nc = await connectTestNats('outbox-spec');
    prefix = uniquePrefix('outbox');
    bus = new MessageBus(nc, prefix, 'environments', quiet);
    await bus.ensureStreams();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
    await deleteStreams(nc, prefix);
    await nc?.close();
  });

  it('writes nothing when the transaction rolls back', async () => {
    await expect(
      ds.transaction(async (tx) => {
        await writeOutbox(tx, SUBJECT, payload('rolled-back'));
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    expect(await ds.getRepository(OutboxEntity).count()).toBe(0);
  });

  it('publishes a change committed while the relay was stopped, exactly once even when published twice', async () => {
    const seen: { name: string; msgId?: string }[] = [];
    const arrivals: (() => void)[] = [];
    const nextArrival = () => new Promise<void>((r) => arrivals.push(r));
    const consumer = await bus.consume([SUBJECT], { durable: 'outbox-spec', from: 'all' }, async (p, d) => {
      seen.push({ name: p.name, msgId: d.msgId });
      arrivals.shift()?.();
    });
    try {
      // The relay is not running: the state change and its event commit together.
      const id = await ds.transaction((tx) => writeOutbox(tx, SUBJECT, payload('registry-a')));
      const firstArrival = nextArrival();
      const relay = new OutboxRelay(ds, bus, quiet, { sweepIntervalMs: 60_000 });
      await relay.start();
      await firstArrival;
      await relay.idle();
      expect(seen).toEqual([{ name: 'registry-a', msgId: id }]);
      const row = await ds.getRepository(OutboxEntity).findOneByOrFail({ id });
      expect(row.publishedAt).toBeInstanceOf(Date);

      // A crash after the publish but before the commit: the row is unpublished again and is
      // published a second time with the same Nats-Msg-Id.
      await ds.getRepository(OutboxEntity).update({ id }, { publishedAt: null });
      await relay.stop();
      const again = new OutboxRelay(ds, bus, quiet, { sweepIntervalMs: 60_000 });
      await again.start();
      await waitFor('the relay to republish the row', async () => (await ds.getRepository(OutboxEntity).findOneByOrFail({ id })).publishedAt !== null);
      await again.idle();
      expect(again.stats.duplicates).toBe(1);

      // A later event arrives after anything the duplicate could have produced (stream order).
      const sentinelArrival = nextArrival();
      await ds.transaction((tx) => writeOutbox(tx, SUBJECT, payload('sentinel')));
      await sentinelArrival;
      await again.stop();
      expect(seen.map((s) => s.name)).toEqual(['registry-a', 'sentinel']);
    } finally {
      await consumer.stop();
    }
  });

  it('shares the outbox between two relays without publishing a row twice', async () => {
    const relays = [new OutboxRelay(ds, bus, quiet, { batchSize: 5 }), new OutboxRelay(ds, bus, quiet, { batchSize: 5 })];
    await ds.transaction(async (tx) => {
      for (let i = 0; i < 40; i++) await writeOutbox(tx, SUBJECT, payload(`bulk-${i}`));
    });
    await Promise.all(relays.map((r) => r.start()));
    await waitFor('every row to be published', async () => (await ds.getRepository(OutboxEntity).countBy({ publishedAt: IsNull() })) === 0);
    await Promise.all(relays.map((r) => r.idle()));
    await Promise.all(relays.map((r) => r.stop()));
    const total = relays.reduce((n, r) => n + r.stats.published, 0);
    const dups = relays.reduce((n, r) => n + r.stats.duplicates, 0);
    expect(total).toBe(40);
    expect(dups).toBe(0);
  });

  it('LISTENs again after its connection is killed: a row committed after that is published within a second, not at the sweep', async () => {
    const arrivals: number[] = [];
    const consumer = await bus.consume([SUBJECT], { durable: 'outbox-listen-spec', from: 'new' }, async () => void arrivals.push(Date.now()));
    const relay = new OutboxRelay(ds, bus, quiet, { sweepIntervalMs: 60_000 });
    try {
      await relay.start();
      await relay.idle();
      const pid = relay.listener!.pid!;
      await ds.query(`SELECT pg_terminate_backend($1)`, [pid]);
      await waitFor('the relay to LISTEN again', () => relay.listener!.reconnects === 1, 10_000);
      expect(relay.listener!.pid).not.toBe(pid);
      await relay.idle(); // the sweep that follows a reconnect
      const committedAt = Date.now();
      await ds.transaction((tx) => writeOutbox(tx, SUBJECT, payload('after-reconnect')));
      const at = await waitFor('the row to arrive', () => arrivals[0], 5000);
      expect(at - committedAt).toBeLessThan(1000);
    } finally {
      await relay.stop();
      await consumer.stop();
    }
  });
});
