import { MessageBus } from '../src';
import { connectTestNats, natsConfig, startNats, testNats, uniquePrefix, waitFor } from '@pipewright/testing';
import { randomUUID } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AckPolicy, connect, ErrorCode, nanos, StringCodec, type NatsConnection, type NatsError, type Subscription } from 'nats';

const sc = StringCodec();

/** The first permission error the server reports on a connection (its status stream). */
function permissionErrors(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error' && String(s.data) === ErrorCode.PermissionsViolation) seen.push(JSON.stringify(s.permissionContext ?? {}));
  })();
  return seen;
}

describe('NATS users and permissions (the test environment runs deploy/nats/nats-config.cjs)', () => {
  const access = testNats();
  const prefix = uniquePrefix('perm');
  const open: NatsConnection[] = [];
  let admin: NatsConnection;

  const as = async (user: string) => {
    const nc = await connectTestNats(`perm-${user}`, { user });
    open.push(nc);
    return nc;
  };

  beforeAll(async () => {
    admin = await connectTestNats('perm-admin');
  });
  afterAll(async () => {
    await Promise.all(open.map((nc) => nc.close()));
    await admin.close();
  });

  it('refuses a connection without credentials, and one with a wrong password', async () => {
    await expect(connect({ servers: access.url, reconnect: false })).rejects.toMatchObject({ code: ErrorCode.AuthorizationViolation });
    await expect(connect({ servers: access.url, reconnect: false, user: 'executions', pass: access.passwords.builds })).rejects.toMatchObject({ code: ErrorCode.AuthorizationViolation });
    await expect(connect({ servers: access.url, reconnect: false, user: 'executions', pass: 'x' })).rejects.toMatchObject({ code: ErrorCode.AuthorizationViolation });
  });

  it("refuses the builds service's credentials an executions event, and passes its own", async () => {
    const seen: string[] = [];
    const sub = admin.subscribe(`${prefix}.evt.>`, { callback: (_e, m) => seen.push(m.subject) });
    await admin.flush();
    const builds = await as('builds');
    const errors = permissionErrors(builds);
    builds.publish(`${prefix}.evt.executions.run.status-changed.v1`, sc.encode('{"forged":true}'));
    builds.publish(`${prefix}.cmd.builds.build.start.v1`, sc.encode('{"forged":true}'));
    builds.publish(`${prefix}.evt.builds.build.finished.v1`, sc.encode('{}'));
    await builds.flush();
    // Messages of one connection arrive in order: once its own event is here, the forged ones would have been.
    await waitFor('the builds event', () => seen.includes(`${prefix}.evt.builds.build.finished.v1`), 5_000);
    expect(seen).toEqual([`${prefix}.evt.builds.build.finished.v1`]);
    await waitFor('both refusals on the builds connection', () => errors.length >= 2, 5_000);
    expect(errors.join('\n')).toContain(`${prefix}.evt.executions.run.status-changed.v1`);
    expect(errors.join('\n')).toContain(`${prefix}.cmd.builds.build.start.v1`);
    sub.unsubscribe();
  });

  it('lets the gateway ask projects who a caller is, and refuses it every credential resolve', async () => {
    const asked: string[] = [];
    const subs: Subscription[] = [];
    for (const subject of ['rpc.projects.memberships', 'rpc.environments.deployment-target.resolve', 'rpc.environments.source-repository.resolve', 'rpc.environments.image-registry.resolve']) {
      subs.push(admin.subscribe(`${prefix}.${subject}`, { callback: (_e, m) => (asked.push(subject), m.respond(sc.encode('{"ok":true,"data":{}}'))) }));
    }
    await admin.flush();
    const gateway = await as('gateway');
    const reply = await gateway.request(`${prefix}.rpc.projects.memberships`, sc.encode('{}'), { timeout: 5000 });
    expect(sc.decode(reply.data)).toBe('{"ok":true,"data":{}}');
    for (const kind of ['deployment-target', 'source-repository', 'image-registry']) {
      const err = (await gateway.request(`${prefix}.rpc.environments.${kind}.resolve`, sc.encode('{"id":"x"}'), { timeout: 5000 }).catch((e: NatsError) => e)) as NatsError;
      expect(err.code).toBe(ErrorCode.PermissionsViolation);
    }
    expect(asked).toEqual(['rpc.projects.memberships']);
    subs.forEach((s) => s.unsubscribe());
  });

  it('lets executions and builds resolve credentials, and no other service', async () => {
    const sub = admin.subscribe(`${prefix}.rpc.environments.deployment-target.resolve`, { callback: (_e, m) => m.respond(sc.encode('{"ok":true}')) });
    await admin.flush();
    const answered = await (await as('executions')).request(`${prefix}.rpc.environments.deployment-target.resolve`, sc.encode('{}'), { timeout: 5000 });
    expect(sc.decode(answered.data)).toBe('{"ok":true}');
    for (const user of ['projects', 'pipelines', 'gateway']) {
      const err = (await (await as(user)).request(`${prefix}.rpc.environments.deployment-target.resolve`, sc.encode('{}'), { timeout: 5000 }).catch((e: NatsError) => e)) as NatsError;
      expect({ user, code: err.code }).toEqual({ user, code: ErrorCode.PermissionsViolation });
    }
    sub.unsubscribe();
  });

  it("refuses a service another user's inbox (where credentials are answered) and another service's queries", async () => {
    const builds = await as('builds');
    const refused = (subject: string) =>
      new Promise<NatsError | null>((resolve) => {
        builds.subscribe(subject, { callback: (err) => resolve(err) });
        void builds.flush();
      });
    expect((await refused('_INBOX_executions.>'))?.code).toBe(ErrorCode.PermissionsViolation);
    expect((await refused(`${prefix}.rpc.environments.deployment-target.resolve`))?.code).toBe(ErrorCode.PermissionsViolation);
    expect((await refused('>'))?.code).toBe(ErrorCode.PermissionsViolation);
  });

  it('with a fixed prefix (npm start, production), a user reaches only that prefix and its two streams', () => {
    for (const user of Object.keys(natsConfig.PRINCIPALS)) {
      const { publish, subscribe } = natsConfig.permissionsFor(user, 'pw');
      for (const subject of publish) expect({ user, subject, ok: /^pw\.|^\$JS\.API\.INFO$|^\$JS\.API\.(STREAM|CONSUMER)\.[A-Z.]*\.PW_(EVENTS|COMMANDS)(\.|$)|^\$JS\.ACK\.PW_(EVENTS|COMMANDS)\./.test(subject) }).toMatchObject({ ok: true });
      for (const subject of subscribe) expect({ user, subject, ok: subject === `_INBOX_${user}.>` || subject.startsWith('pw.') }).toMatchObject({ ok: true });
    }
    expect(() => natsConfig.permissionsFor('builds', 'p.x')).toThrow(/prefix must be letters/);
  });

  it("docker-compose's server configuration is the generator's, and nats-server accepts it", async () => {
    const file = join(__dirname, '..', '..', '..', 'deploy', 'nats', 'compose.conf');
    const text = readFileSync(file, 'utf8');
    const command = /^#\s+node deploy\/nats\/nats-config\.cjs (.*)$/m.exec(text)![1];
    const regenerated = execFileSync(process.execPath, [join(__dirname, '..', '..', '..', 'deploy', 'nats', 'nats-config.cjs'), ...command.split(' ')], { encoding: 'utf8' });
    expect(text).toBe(regenerated);
    const users = Object.keys(natsConfig.PRINCIPALS);
    const env = Object.fromEntries(users.map((u) => [natsConfig.envName(u), `pw-${u}-secret`]));
    // nats-server -t parses the configuration (its $NATS_PASSWORD_* from the environment) and exits.
    const checked = spawnSync('nats-server', ['-c', file, '-t'], { encoding: 'utf8', env: { ...process.env, ...env } });
    expect(`${checked.stdout}${checked.stderr}`).toMatch(/configuration file .* is valid/);
  });

  describe('with a fixed prefix, as under npm start and in production', () => {
    let server: Awaited<ReturnType<typeof startNats>>;
    const fixed = 'pwfixed';
    const quiet = { warn: () => undefined, error: () => undefined };
    const fixedOpen: NatsConnection[] = [];
    const bus = async (user: string) => {
      const nc = await connectTestNats(`fixed-${user}`, { access: server.access, user });
      fixedOpen.push(nc);
      return new MessageBus(nc, fixed, user, quiet);
    };
    beforeAll(async () => {
      server = await startNats('perm-fixed', { prefix: fixed });
    });
    afterAll(async () => {
      await Promise.all(fixedOpen.map((nc) => nc.close()));
      await server?.stop();
    });

    it('the services make their streams, publish through JetStream and consume durably; another stream or prefix is refused', async () => {
      const projects = await bus('projects');
      await projects.ensureStreams();
      const executions = await bus('executions');
      await executions.ensureStreams(); // the second one to boot only brings them up to date
      const got: string[] = [];
      const consumer = await executions.consume(['evt.projects.project.changed.v1'], { durable: 'executions-project-deleted', from: 'all' }, async (e) => void got.push(e.slug));
      const event = { id: randomUUID(), slug: 'fixed', change: 'created' as const, by: 'spec', at: new Date().toISOString() };
      await projects.publish('evt.projects.project.changed.v1', event);
      await waitFor('the event through the durable consumer', () => got.includes('fixed'), 10_000);
      await consumer.stop();

      // builds may not publish a projects event, even through JetStream.
      const builds = await bus('builds');
      await expect(builds.publish('evt.projects.project.changed.v1', event)).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
      // Nor make a stream of its own (one that would capture another user's inbox), nor use another prefix's.
      const jsm = await builds.nc.jetstreamManager();
      await expect(jsm.streams.add({ name: 'CAPTURE', subjects: ['_INBOX_executions.>'] })).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
      await expect(jsm.streams.info('OTHER_EVENTS')).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
      const other = await connectTestNats('fixed-other', { access: server.access, user: 'projects' });
      fixedOpen.push(other);
      const errors = permissionErrors(other);
      other.publish('pw.evt.projects.project.changed.v1', sc.encode('{}'));
      await other.flush();
      await waitFor('the refusal of another prefix', () => errors.length > 0, 5_000);
      expect(errors[0]).toContain('pw.evt.projects.project.changed.v1');
    });

    it("a service reads only through its own durable consumers, and only one principal changes a stream's config", async () => {
      const stream = `${fixed.toUpperCase()}_EVENTS`;
      const adminNc = await connectTestNats('fixed-admin-info', { access: server.access });
      fixedOpen.push(adminNc);
      const adminInfo = async (s: string, name: string) => (await adminNc.jetstreamManager()).consumers.info(s, name);
      const executions = await bus('executions');
      await executions.ensureStreams();
      const own = await executions.consume(['evt.builds.build.finished.v1'], { durable: 'executions-build-finished', from: 'new' }, async () => undefined);
      await own.stop();
      // builds may not take executions' consumer over (reading its build events and acking them away),
      // nor make one under that name, nor pull from it, nor read its state.
      const builds = await bus('builds');
      await expect(builds.consume(['evt.builds.build.finished.v1'], { durable: 'executions-build-finished' }, async () => undefined)).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
      await expect(builds.consume(['evt.builds.build.finished.v1'], { durable: 'builds-own-idea' }, async () => undefined)).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
      await expect(builds.nc.request(`$JS.API.CONSUMER.MSG.NEXT.${stream}.executions-build-finished`, sc.encode('{"batch":1}'))).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
      const buildsJsm = await builds.nc.jetstreamManager();
      await expect(buildsJsm.consumers.info(stream, 'executions-build-finished')).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
      const takeover = sc.encode(JSON.stringify({ stream_name: stream, config: { durable_name: 'executions-build-finished', ack_policy: 'explicit', filter_subject: `${fixed}.evt.builds.build.finished.v1` } }));
      for (const subject of [
        `$JS.API.CONSUMER.CREATE.${stream}.executions-build-finished.${fixed}.evt.builds.build.finished.v1`,
        `$JS.API.CONSUMER.CREATE.${stream}.executions-build-finished`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.executions-build-finished`,
      ]) {
        await expect(builds.nc.request(subject, takeover)).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
      }
      // Its own consumer of commands it may use.
      const commands = await builds.consume(['cmd.builds.build.cancel.v1'], { durable: 'builds-cancel', from: 'all' }, async () => undefined);
      await commands.stop();

      // executions may not widen its own consumer's filter to every event, nor give it several.
      const ownJsm = await executions.nc.jetstreamManager();
      const widened = { durable_name: 'executions-build-finished', ack_policy: AckPolicy.Explicit };
      await expect(ownJsm.consumers.update(stream, 'executions-build-finished', { filter_subject: `${fixed}.evt.>` })).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
      // (the create subject without a filter, which any config could go through, is refused too)
      const unfiltered = sc.encode(JSON.stringify({ stream_name: stream, config: { ...widened, filter_subject: `${fixed}.evt.>` } }));
      await expect(executions.nc.request(`$JS.API.CONSUMER.CREATE.${stream}.executions-build-finished`, unfiltered)).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
      expect((await adminInfo(stream, 'executions-build-finished')).config.filter_subject).toBe(`${fixed}.evt.builds.build.finished.v1`);

      // Only projects (`streams: 'manage'`) changes a stream's config; executions cannot shrink it.
      const executionsJsm = await executions.nc.jetstreamManager();
      const before = (await executionsJsm.streams.info(stream)).config;
      await expect(executionsJsm.streams.update(stream, { ...before, max_msgs: 1 })).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
      // An operator's change (here the admin's) stays until the manager boots: executions boots on it...
      const admin = await connectTestNats('fixed-admin', { access: server.access });
      fixedOpen.push(admin);
      const adminJsm = await admin.jetstreamManager();
      await adminJsm.streams.update(stream, { ...before, max_age: nanos(3600_000) });
      await executions.ensureStreams();
      expect((await adminJsm.streams.info(stream)).config.max_age).toBe(nanos(3600_000));
      // ...and projects brings it back to the platform's config.
      await (await bus('projects')).ensureStreams();
      expect((await adminJsm.streams.info(stream)).config.max_age).toBe(before.max_age);
    });
  });
});
