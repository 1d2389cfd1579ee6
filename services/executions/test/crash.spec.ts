import type { RunStatus } from '@pipewright/contracts';
import { MessageBus, type BusLogger } from '@pipewright/messaging';
import { connectTestNats, gql, startPlatform, waitFor, type TestPlatform } from '@pipewright/testing';
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { Client } from 'pg';
import { HooksServer } from './hooks-server';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const LOOPS = 10;
const RUNS_PER_LOOP = 3;
const CHAIN = 4;

describe('crash safety: SIGKILL the executions service in the middle of runs', () => {
  let platform: TestPlatform;
  let token: string;
  let nc: NatsConnection;
  let bus: MessageBus;
  const hooks = new HooksServer();
  const events = new Map<string, { status: RunStatus; sequence: number }[]>();
  let consumer: { stop(): Promise<void> };

  beforeAll(async () => {
    await hooks.start();
    // A short lease, so a dead worker's messages are taken over within seconds.
    platform = await startPlatform('crash', {}, { executions: { ENGINE_LEASE_SECONDS: '2', ENGINE_SWEEP_MS: '200' } });
    token = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    nc = await connectTestNats('crash-spec');
    bus = new MessageBus(nc, platform.prefix, 'crash-spec', quiet);
    consumer = await bus.consume(['evt.executions.run.status-changed.v1'], { durable: 'crash-spec-runs', from: 'all' }, async (e) => {
      events.set(e.runId, [...(events.get(e.runId) ?? []), { status: e.status, sequence: e.sequence }]);
    });
  });
  afterAll(async () => {
    await consumer?.stop();
    await nc?.close();
    await platform?.stop();
    await hooks.stop();
  });

  const ok = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const res = await gql<T>(platform.gatewayUrl, query, { token, variables });
    if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
    return res.data!;
  };

  it(`finishes every run exactly once across ${LOOPS} kills, starting no stage twice`, async () => {
    const tag = randomBytes(3).toString('hex');
    const stages = Array.from({ length: CHAIN }, (_, i) => ({
      refId: `s${i}`,
      name: `step ${i}`,
      type: 'WEBHOOK',
      dependsOn: i ? [`s${i - 1}`] : [],
      config: { url: `${hooks.url}/ok/${tag}/s${i}`, body: { run: '${run.number}' } },
    }));
    const pipelineId = (await ok<{ createPipeline: { id: string } }>(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`, { i: { name: `crash-${tag}`, stages } })).createPipeline.id;
    const allRuns: string[] = [];

    for (let loop = 0; loop < LOOPS; loop++) {
      const runs: string[] = [];
      for (let i = 0; i < RUNS_PER_LOOP; i++) runs.push((await ok<{ runPipeline: { id: string } }>(`mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }`, { p: pipelineId })).runPipeline.id);
      allRuns.push(...runs);
      // Kill it once the runs are under way, wherever the engine happens to be.
      await waitFor('a run to be running', () => runs.some((r) => events.get(r)?.some((e) => e.status === 'RUNNING')));
      platform.processes.executions.child.kill('SIGKILL');
      expect(await platform.processes.executions.exited).toBe('SIGKILL');
      await platform.restart('executions');
      await waitFor(`loop ${loop}: every run to finish`, () => runs.every((r) => events.get(r)?.some((e) => e.status === 'SUCCEEDED')), 60_000);
    }

    // Every run succeeded, and a subscriber saw each of its statuses once, in order.
    for (const runId of allRuns) {
      const seen = events.get(runId)!;
      expect(seen.map((e) => e.status)).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
      const sequences = seen.map((e) => e.sequence);
      expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    }

    // No stage was started twice: one attempt each, and one delivery key per stage at the hooks.
    const db = new Client({ connectionString: platform.serviceEnvs.executions.DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT status, attempt, count(*)::int AS n FROM stage_runs GROUP BY status, attempt`);
      expect(rows).toEqual([{ status: 'SUCCEEDED', attempt: 1, n: LOOPS * RUNS_PER_LOOP * CHAIN }]);
      const { rows: left } = await db.query(`SELECT count(*)::int AS n FROM engine_messages`);
      expect(left[0].n).toBe(0);
    } finally {
      await db.end();
    }
    for (let i = 0; i < CHAIN; i++) {
      const keys = hooks.keys.get(`/ok/${tag}/s${i}`)!;
      expect(keys.size).toBe(LOOPS * RUNS_PER_LOOP); // one key per run: no second start of any stage
      // Webhook delivery is at-least-once: a call in flight when the process died is repeated
      // with the same Idempotency-Key, so a receiver can drop it.
      expect(hooks.count(`/ok/${tag}/s${i}`)).toBeGreaterThanOrEqual(LOOPS * RUNS_PER_LOOP);
    }
    // Ten kills and boots of the service: on two loaded cores that can take longer than jest's default.
  }, 300_000);
});
