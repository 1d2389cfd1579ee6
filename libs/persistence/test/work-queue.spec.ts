import { databaseUrlFor, dropDatabase, freshDatabase, waitFor, withClient, type TestDatabase } from '@pipewright/testing';
import type { DataSource } from 'typeorm';
import { createDataSource, leaseOwner, LeaseLostError, messageTable, openDatabase, PgListener, QueueStoppingError, rowsOf, WorkQueue, type ListenerWake, type QueueLogger, type WorkQueueOptions } from '../src';

interface Job {
  id: string;
  name: string;
  attempts: number;
}

/** Resolves when `signal` aborts, with its reason. */
const aborted = (signal: AbortSignal) => new Promise<unknown>((resolve) => (signal.aborted ? resolve(signal.reason) : signal.addEventListener('abort', () => resolve(signal.reason), { once: true })));

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue and PgListener (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const queues: WorkQueue<Job>[] = [];
  const logs: { level: string; message: string; context?: Record<string, unknown> }[] = [];
  const logger: QueueLogger = {
    warn: (message, context) => logs.push({ level: 'warn', message, context }),
    error: (message, context) => logs.push({ level: 'error', message, context }),
  };

  beforeAll(async () => {
    db = await freshDatabase('work_queue');
    ds = await openDatabase(createDataSource({ url: db.url, applicationName: 'work-queue-spec' }));
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.stop()));
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  /** A standard message table whose inserts NOTIFY `<name>`, holding `count` jobs. */
  async function jobsTable(name: string, count: number): Promise<string[]> {
    await ds.query(`CREATE TABLE ${name} (id bigserial PRIMARY KEY, name text NOT NULL, due_at timestamptz NOT NULL DEFAULT now(), lease_until timestamptz, lease_owner text, attempts int NOT NULL DEFAULT 0, last_error text)`);
    await ds.query(`CREATE FUNCTION ${name}_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('${name}', ''); RETURN NULL; END $$`);
    await ds.query(`CREATE TRIGGER ${name}_notify AFTER INSERT ON ${name} FOR EACH STATEMENT EXECUTE FUNCTION ${name}_notify()`);
    return count ? addJobs(name, count) : [];
  }
  async function addJobs(table: string, count: number): Promise<string[]> {
    const rows: { id: string }[] = await ds.query(`INSERT INTO ${table} (name) SELECT 'job-' || g FROM generate_series(1, $1) g RETURNING id::text AS id`, [count]);
    return rows.map((r) => r.id);
  }

  /** A queue on `table` as a service would build it; `claims` records each claim's limit and answer size. */
  function queueOn(table: string, opts: Partial<WorkQueueOptions<Job>> & Pick<WorkQueueOptions<Job>, 'handle'>, leaseMs = 5000) {
    const t = messageTable<Job>(ds, { table, owner: leaseOwner('spec'), leaseMs, columns: 'm.name, m.attempts' });
    const claims: { limit: number; got: number }[] = [];
    const queue = new WorkQueue<Job>({
      name: table,
      connection: ds,
      channel: table,
      concurrency: 4,
      sweepMs: 60_000,
      leaseMs,
      renew: t.renew,
      logger,
      ...opts,
      claim: async (limit) => {
        const items = await t.claim(limit);
        claims.push({ limit, got: items.length });
        return items;
      },
    });
    queues.push(queue);
    return { queue, claims, table: t };
  }

  it('claims up to the free slots in one round trip and runs that many handlers at once', async () => {
    const ids = await jobsTable('batch_jobs', 12);
    const release = deferred();
    const handled: string[] = [];
    let running = 0;
    let most = 0;
    const { queue, claims } = queueOn('batch_jobs', {
      concurrency: 5,
      handle: async (job) => {
        most = Math.max(most, ++running);
        await release.promise;
        await ds.query(`DELETE FROM batch_jobs WHERE id = $1`, [job.id]);
        handled.push(job.id);
        running--;
      },
    });
    await queue.start();
    await waitFor('5 handlers to run', () => running === 5);
    expect(claims).toEqual([{ limit: 5, got: 5 }]);
    release.resolve();
    await waitFor('every job to be handled', () => handled.length === 12);
    expect(handled.sort()).toEqual([...ids].sort());
    expect(most).toBe(5);
    expect(claims.every((c) => c.got <= c.limit && c.limit <= 5)).toBe(true);
  });

  it('never lets two queues on one table handle a job twice', async () => {
    const ids = await jobsTable('shared_jobs', 200);
    const handled: string[] = [];
    let deleted = 0;
    const handler = (owner: () => string) => async (job: Job) => {
      handled.push(job.id);
      const gone = rowsOf(await ds.query(`DELETE FROM shared_jobs WHERE id = $1 AND lease_owner = $2 RETURNING id`, [job.id, owner()]));
      deleted += gone.length;
    };
    const a: ReturnType<typeof queueOn> = queueOn('shared_jobs', { batchSize: 3, sweepMs: 50, handle: handler(() => a.table.owner) });
    const b: ReturnType<typeof queueOn> = queueOn('shared_jobs', { batchSize: 3, sweepMs: 50, handle: handler(() => b.table.owner) });
    await Promise.all([a.queue.start(), b.queue.start()]);
    await waitFor('the table to be empty', async () => Number((await ds.query(`SELECT count(*) AS n FROM shared_jobs`))[0].n) === 0);
    expect(deleted).toBe(200); // each by the queue that held it
    expect(handled.length).toBe(200);
    expect(handled.sort()).toEqual([...ids].sort());
    expect(a.queue.stats.handled + b.queue.stats.handled).toBe(200);
  });

  it('keeps renewing the lease of a long handler, so a second queue never takes its job over', async () => {
    await jobsTable('long_jobs', 0);
    const started = deferred<Job>();
    const finished = deferred<{ abortedMeanwhile: boolean; deleted: number }>();
    const a: ReturnType<typeof queueOn> = queueOn(
      'long_jobs',
      {
        concurrency: 1,
        handle: async (job, lease) => {
          started.resolve(job);
          // The work takes three leases' time; the heartbeat (every 333 ms) keeps the job ours.
          await new Promise((r) => setTimeout(r, 3000));
          const gone = rowsOf(await ds.query(`DELETE FROM long_jobs WHERE id = $1 AND lease_owner = $2 RETURNING id`, [job.id, a.table.owner]));
          finished.resolve({ abortedMeanwhile: lease.signal.aborted, deleted: gone.length });
        },
      },
      1000,
    );
    const takenOver: string[] = [];
    const b = queueOn('long_jobs', { concurrency: 1, sweepMs: 100, handle: async (job) => void takenOver.push(job.id) }, 1000);
    await a.queue.start();
    await addJobs('long_jobs', 1);
    const job = await started.promise;
    expect(job.attempts).toBe(1);
    await b.queue.start();
    expect(await finished.promise).toEqual({ abortedMeanwhile: false, deleted: 1 }); // still held by its first worker when it was done
    expect(takenOver).toEqual([]);
    expect(b.claims.length).toBeGreaterThan(5); // the second queue kept trying all along
    expect(b.claims.every((c) => c.got === 0)).toBe(true);
    expect(a.queue.stats.leasesLost).toBe(0);
  });

  it('aborts the handler of a job whose lease another worker took', async () => {
    await jobsTable('stolen_jobs', 1);
    const errors: unknown[] = [];
    const reason = deferred<unknown>();
    const started = deferred<Job>();
    const { queue } = queueOn(
      'stolen_jobs',
      {
        concurrency: 1,
        onError: (_job, err) => void errors.push(err),
        handle: async (job, lease) => {
          started.resolve(job);
          reason.resolve(await aborted(lease.signal));
          throw lease.signal.reason;
        },
      },
      1500,
    );
    await queue.start();
    const job = await started.promise;
    await ds.query(`UPDATE stolen_jobs SET lease_owner = 'someone-else', lease_until = now() + interval '1 minute' WHERE id = $1`, [job.id]);
    const why = await reason.promise;
    expect(why).toBeInstanceOf(LeaseLostError);
    expect((why as Error).message).toMatch(/held by another worker/);
    await waitFor('the handler to end', () => queue.busy === 0);
    expect(errors).toEqual([]); // the job is someone else's: no retry from here
    expect(queue.stats.leasesLost).toBe(1);
  });

  it('aborts a handler when its lease runs out because renewals fail, before the database lease ends', async () => {
    await jobsTable('unrenewed_jobs', 1);
    const seen = deferred<{ reason: unknown; leaseLeft: boolean }>();
    const { queue } = queueOn(
      'unrenewed_jobs',
      {
        concurrency: 1,
        renew: async () => {
          throw new Error('connection refused (the database is away)');
        },
        handle: async (job, lease) => {
          const reason = await aborted(lease.signal);
          const [row] = await ds.query(`SELECT lease_until > now() AS "leaseLeft" FROM unrenewed_jobs WHERE id = $1`, [job.id]);
          seen.resolve({ reason, leaseLeft: row.leaseLeft });
        },
      },
      1200,
    );
    await queue.start();
    const { reason, leaseLeft } = await seen.promise;
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect((reason as Error).message).toMatch(/ran out: renewing it failed \(connection refused/);
    expect(leaseLeft).toBe(true); // stopped while the lease was still ours
    expect(logs.some((l) => l.message.includes('renewing 1 lease(s) failed'))).toBe(true);
  });

  it('passes a cancel to the handler and, on stop, aborts with a reason that says the service stops and waits for the handler', async () => {
    await jobsTable('stopped_jobs', 2);
    const cancel = new Map<string, string>();
    const reasons = new Map<string, unknown>();
    const cleanedUp: string[] = [];
    const { queue } = queueOn('stopped_jobs', {
      cancelled: async (ids) => ids.filter((id) => cancel.has(id)).map((id) => ({ id, reason: cancel.get(id)! })),
      handle: async (job, lease) => {
        reasons.set(job.id, await aborted(lease.signal));
        await ds.query(`SELECT pg_sleep(0.05)`); // cleanup after the abort, still under the lease
        cleanedUp.push(job.id);
      },
    });
    await queue.start();
    await waitFor('both jobs to be handled', () => queue.busy === 2);
    const [first, second] = (await ds.query(`SELECT id::text AS id FROM stopped_jobs ORDER BY id`)).map((r: { id: string }) => r.id);
    cancel.set(first, 'canceled by alice');
    queue.wake();
    await waitFor('the cancel to reach the handler', () => reasons.has(first));
    expect(reasons.get(first)).toBe('canceled by alice');
    await queue.stop();
    expect(reasons.get(second)).toBeInstanceOf(QueueStoppingError);
    expect((reasons.get(second) as Error).message).toMatch(/service is stopping/);
    expect(cleanedUp.sort()).toEqual([first, second].sort());
  });

  it('LISTENs again after its connection is killed, and a NOTIFY after that wakes the queue within a second', async () => {
    await jobsTable('listen_jobs', 0);
    let handledAt: number | undefined;
    const { queue, claims } = queueOn('listen_jobs', { sweepMs: 60_000, handle: async () => void (handledAt = Date.now()) });
    await queue.start();
    await waitFor('the first claim', () => claims.length === 1);
    const pid = queue.listener!.pid!;
    expect(queue.listener!.listening).toBe(true);
    await ds.query(`SELECT pg_terminate_backend($1)`, [pid]);
    // After the reconnect the queue sweeps (a NOTIFY sent while it was down is lost).
    await waitFor('the listener to reconnect and the queue to sweep', () => queue.listener!.reconnects === 1 && claims.length === 2, 10_000);
    expect(queue.listener!.pid).not.toBe(pid);
    expect(logs.some((l) => l.message.includes('the LISTEN connection was lost'))).toBe(true);
    // The sweep is a minute away: only the NOTIFY of this insert can wake the queue now.
    const insertedAt = Date.now();
    await addJobs('listen_jobs', 1);
    const at = await waitFor('the NOTIFY to wake the queue', () => handledAt, 5000);
    expect(at - insertedAt).toBeLessThan(1000);
  });

  it('keeps retrying while it cannot connect (as while PostgreSQL restarts), then LISTENs and asks for a sweep', async () => {
    const name = `pw_test_listener_${Date.now()}`;
    const wakes: ListenerWake[] = [];
    const listener = new PgListener({ name: 'spec', connection: { connectionString: databaseUrlFor(name) }, channels: ['spec_channel'], onWake: (w) => wakes.push(w), logger, maxBackoffMs: 200 });
    try {
      await listener.start(); // the database is not there: start() does not throw, it retries
      expect(listener.listening).toBe(false);
      await waitFor('a second failed attempt', () => logs.filter((l) => l.message.includes(`could not LISTEN on spec_channel`)).length >= 2);
      await withClient(db.url, (c) => c.query(`CREATE DATABASE "${name}"`));
      await waitFor('the listener to connect', () => listener.listening, 10_000);
      expect(wakes).toEqual([{ kind: 'reconnected' }]);
      await withClient(databaseUrlFor(name), (c) => c.query(`NOTIFY spec_channel, 'hello'`));
      await waitFor('the notification', () => wakes.length === 2);
      expect(wakes[1]).toEqual({ kind: 'notification', channel: 'spec_channel', payload: 'hello' });
    } finally {
      await listener.stop();
      await dropDatabase(name);
    }
  });
});
