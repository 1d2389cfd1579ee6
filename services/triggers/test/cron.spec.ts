// CRON triggers: a schedule every 2 s starts runs, fired by one leader of two instances; with the
// service down for a while, FIRE_ONCE makes exactly one catch-up run and SKIP none.
import { pipelineDriver, serviceQuery, startPlatform, waitFor, type TestPlatform } from '@pipewright/testing';

type Run = { id: string; status: string; stages: { refId: string }[]; trigger: { summary: string } | null };
interface Fired {
  trigger_id: string;
  status: string;
  scheduled: string;
  missed: number;
  fired_by: string;
  received_at: Date;
}

describe('CRON triggers', () => {
  let platform: TestPlatform;
  let token: string;
  const d = pipelineDriver<Run>(() => platform.gatewayUrl, () => token, 'id status stages { refId } trigger { summary }', { label: 'cron' });

  beforeAll(async () => {
    platform = await startPlatform('cron', {}, { triggers: { LEADER_RETRY_MS: '300', CRON_MISFIRE_GRACE_MS: '1000' } }, { replicas: { triggers: 2 } });
    token = await platform.token({ sub: 'alice', roles: ['ADMIN'] });
  });
  afterAll(() => platform?.stop());

  const fired = (triggerId: string) =>
    serviceQuery<Fired>(
      platform,
      'triggers',
      `SELECT trigger_id, status, payload->>'scheduledAt' AS scheduled, (payload->>'missed')::int AS missed, payload->>'firedBy' AS fired_by, received_at
       FROM trigger_deliveries WHERE trigger_id = $1 ORDER BY payload->>'scheduledAt'`,
      [triggerId],
    );

  it('fires on time from one leader; after an outage FIRE_ONCE catches up once and SKIP not at all', async () => {
    const pipelineId = await d.pipeline([{ refId: 'wait', name: 'Wait', type: 'JUDGEMENT', config: { description: 'go?', options: ['go'] } }]);
    const make = async (name: string, missedRuns: string) =>
      (
        await d.ok<{ createTrigger: { trigger: { id: string; nextFireAt: string } } }>(`mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { trigger { id nextFireAt } } }`, {
          i: { pipelineId, type: 'CRON', name, config: { expression: '*/2 * * * * *', timezone: 'Europe/Berlin', missedRuns } },
        })
      ).createTrigger.trigger;
    const once = await make('every 2 s, fire once', 'FIRE_ONCE');
    const skip = await make('every 2 s, skip', 'SKIP');
    expect(Date.parse(once.nextFireAt)).toBeGreaterThan(Date.now() - 2000);

    // Two instances run: three fires of each, all from one of them, none twice.
    const before = await waitFor('three on-time fires of each', async () => {
      const [a, b] = [await fired(once.id), await fired(skip.id)];
      return a.length >= 3 && b.length >= 3 ? [...a, ...b] : undefined;
    }, 60_000);
    expect(new Set(before.map((f) => f.fired_by)).size).toBe(1);
    expect(before.every((f) => f.missed === 0)).toBe(true);
    for (const id of [once.id, skip.id]) {
      const times = (await fired(id)).map((f) => f.scheduled);
      expect(new Set(times).size).toBe(times.length);
      expect(times.every((t) => Date.parse(t) % 2000 === 0)).toBe(true);
    }
    const started = await waitFor('the fires to start runs', async () => {
      const rows = await fired(once.id);
      return rows.filter((r) => r.status === 'STARTED').length >= 3 ? rows : undefined;
    }, 60_000);
    expect(started.length).toBeGreaterThanOrEqual(3);

    // Both instances down; at least three schedule times pass (waited for on the clock: the outage is the scenario).
    await Promise.all([platform.processes.triggers.stop(), ...platform.replicas.triggers.map((r) => r.stop())]);
    const downAt = Date.now();
    await waitFor('three schedule times to pass while no instance runs', async () => (Date.now() - downAt > 6500 ? true : undefined), 20_000);
    const restartAt = Date.now(); // the instance fires on time from its start, before it reports ready
    await platform.restart('triggers');
    const upAt = Date.now();

    // After the restart: FIRE_ONCE fires one catch-up (for every time missed), then on time again; SKIP only on time.
    const after = await waitFor('a fire on time after the restart, of each', async () => {
      const [a, b] = [await fired(once.id), await fired(skip.id)];
      const onTime = (rows: Fired[]) => rows.some((r) => r.missed === 0 && Date.parse(r.scheduled) > upAt);
      return onTime(a) && onTime(b) ? { a, b } : undefined;
    }, 60_000);
    const catchUps = after.a.filter((r) => r.missed > 0);
    expect(catchUps).toHaveLength(1);
    // At least (6.5 s - the 1 s grace) / 2 s of times were missed.
    expect(catchUps[0].missed).toBeGreaterThanOrEqual(2);
    expect(Date.parse(catchUps[0].scheduled)).toBeGreaterThan(downAt);
    expect(after.b.filter((r) => r.missed > 0)).toHaveLength(0);
    // SKIP fired nothing for the times no instance ran (those more than the 1 s grace before the restart began).
    expect(after.b.filter((r) => Date.parse(r.scheduled) > downAt && Date.parse(r.scheduled) < restartAt - 1000)).toHaveLength(0);
    expect(after.b.some((r) => Date.parse(r.scheduled) > downAt)).toBe(true);
    const catchUpRun = await waitFor('the catch-up run', async () => {
      const [row] = await serviceQuery<{ run_id: string | null; summary: string | null }>(platform, 'triggers', `SELECT run_id, summary FROM trigger_deliveries WHERE trigger_id = $1 AND (payload->>'missed')::int > 0`, [once.id]);
      return row?.run_id ? ((await d.read(row.run_id)) ?? undefined) : undefined;
    }, 60_000);
    expect(catchUpRun.trigger?.summary).toMatch(/catch-up: \d+ time\(s\) missed while Pipewright was down, FIRE_ONCE/);

    // Disabled: no more fires.
    await d.ok(`mutation($id: ID!) { updateTrigger(id: $id, input: { enabled: false }) { enabled } }`, { id: once.id });
    await d.ok(`mutation($id: ID!) { updateTrigger(id: $id, input: { enabled: false }) { enabled } }`, { id: skip.id });
    const settled = (await fired(once.id)).length;
    // One more fire of any other schedule proves the leader ran a pass after the change: a third trigger.
    const probe = await make('probe', 'SKIP');
    await waitFor('the probe to fire', async () => ((await fired(probe.id)).length ? true : undefined), 30_000);
    expect((await fired(once.id)).length).toBe(settled);
  });
});
