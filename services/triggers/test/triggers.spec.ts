// Triggers start runs by themselves: GitHub webhooks (real payloads from @octokit/webhooks-examples,
// signed), a real `git push` to the test git server (which sends GitHub's push event), another
// pipeline's end, and a crash right after a delivery was answered 202. Against the real platform.
import { createGitRepository, pipelineDriver, serviceQuery, startPlatform, testEnv, waitFor, type TestPlatform, type TestRepository } from '@pipewright/testing';
import examples from '@octokit/webhooks-examples/api.github.com/index.json';
import { execFile } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Run = { id: string; status: string; parameters: Record<string, string>; artifacts: Record<string, { type: string; commit?: string; branch?: string; repositoryId?: string }>; trigger: { type: string; triggerId: string; deliveryId: string; summary: string } | null; stages: { refId: string; status: string }[] };
type Delivery = { id: string; outcome: string; reason: string | null; runId: string | null; summary: string | null; providerDeliveryId: string | null; event: string; canRedeliver: boolean };

const RUN_FIELDS = 'id status parameters artifacts trigger { type triggerId deliveryId summary } stages { refId status }';
const pushExamples = (examples as Array<{ name: string; examples: Array<Record<string, unknown>> }>).find((e) => e.name === 'push')!.examples;
const example = (pick: (p: { ref: string; created: boolean; deleted: boolean }) => boolean) => structuredClone(pushExamples.find((p) => pick(p as never))!) as Record<string, unknown> & { ref: string };

describe('triggers', () => {
  let platform: TestPlatform;
  let token: string;
  let repo: TestRepository;
  let repositoryId: string;
  const name = `trig-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const d = pipelineDriver<Run>(() => platform.gatewayUrl, () => token, RUN_FIELDS, { label: 'triggers' });
  const hooksBase = () => platform.gatewayUrl.replace(/\/graphql$/, '/hooks');

  const judged = [{ refId: 'wait', name: 'Wait', type: 'JUDGEMENT', config: { description: 'go?', options: ['go'] } }];
  const createTrigger = async (input: Record<string, unknown>) =>
    (await d.ok<{ createTrigger: { trigger: { id: string; hookUrl: string | null; hasSecret: boolean; config: Record<string, unknown> }; secret: string | null } }>(
      `mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { trigger { id hookUrl hasSecret config } secret } }`,
      { i: input },
    )).createTrigger;
  const deliveries = async (triggerId: string) =>
    (await d.ok<{ trigger: { deliveries: { edges: { node: Delivery }[]; totalCount: number } } }>(
      `query($id: ID!) { trigger(id: $id) { deliveries(first: 100) { totalCount edges { node { id outcome reason runId summary providerDeliveryId event canRedeliver } } } } }`,
      { id: triggerId },
    )).trigger.deliveries.edges.map((e) => e.node);
  const processed = (triggerId: string, deliveryId: string) =>
    waitFor(`delivery ${deliveryId} to be processed`, async () => (await deliveries(triggerId)).find((x) => x.id === deliveryId && x.outcome !== 'PENDING'), 60_000);
  const gqlErrors = async (query: string, variables: Record<string, unknown>) => {
    const res = await fetch(platform.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    return ((await res.json()) as { errors?: { extensions: Record<string, unknown> }[] }).errors?.[0]?.extensions;
  };
  /** The run a delivery started: executions makes it from the command the delivery put in the outbox. */
  const runOf = (runId: string) => waitFor(`run ${runId} to exist`, async () => (await d.read(runId)) ?? undefined, 60_000);
  const runsOf = async (pipelineId: string) =>
    (await d.ok<{ runs: { edges: { node: Run }[] } }>(`query($p: ID!) { runs(pipelineId: $p, first: 100) { edges { node { ${RUN_FIELDS} } } } }`, { p: pipelineId })).runs.edges.map((e) => e.node);
  const sendGithub = (hookUrl: string, secret: string, payload: unknown, opts: { delivery?: string; event?: string; badSecret?: boolean } = {}) => {
    const body = JSON.stringify(payload);
    const signature = `sha256=${createHmac('sha256', opts.badSecret ? `${secret}x` : secret).update(body).digest('hex')}`;
    return fetch(hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': opts.event ?? 'push', 'x-github-delivery': opts.delivery ?? randomUUID(), 'x-hub-signature-256': signature, 'user-agent': 'GitHub-Hookshot/test' },
      body,
    });
  };
  /** A GitHub example payload pointed at the test repository, with a commit id of our own. */
  const adapt = (p: Record<string, unknown> & { ref: string }, sha: string) => {
    const out = structuredClone(p) as Record<string, unknown> & { ref: string; after: string; head_commit: { id: string } | null; repository: Record<string, unknown> };
    out.repository = { ...(out.repository as Record<string, unknown>), name, clone_url: repo.url };
    if (!out.deleted) {
      out.after = sha;
      if (out.head_commit) out.head_commit = { ...out.head_commit, id: sha };
    }
    return out;
  };

  beforeAll(async () => {
    platform = await startPlatform('triggers', {}, { triggers: { TRIGGER_SWEEP_MS: '1000', LEADER_RETRY_MS: '300' } });
    token = await platform.token({ sub: 'alice', roles: ['ADMIN'] });
    repo = await createGitRepository(name, { 'README.md': 'triggers\n', 'src/app.txt': 'v1\n' });
    repositoryId = (
      await d.ok<{ createSourceRepository: { id: string } }>(`mutation($i: CreateSourceRepositoryInput!) { createSourceRepository(input: $i) { id } }`, {
        i: { name: `${name}-repo`, provider: 'GITHUB', url: repo.url, defaultBranch: 'main', token: testEnv('GIT_TOKEN') },
      })
    ).createSourceRepository.id;
  });
  afterAll(async () => {
    if (process.env.DEBUG_TRIGGERS) console.log(platform.processes.triggers.output().slice(-6000), platform.processes.executions.output().slice(-3000));
    repo?.remove();
    await platform?.stop();
  });

  it('GitHub push and tag events start one run each with the commit; a tag deletion starts nothing; a repeat and a bad signature start nothing', async () => {
    const pipelineId = await d.pipeline(judged, [{ name: 'commit' }, { name: 'ref', default: '' }]);
    const branch = await createTrigger({ pipelineId, type: 'GIT_PUSH', name: 'on push', config: { repositoryId, branches: ['master', 'release/*'], parameters: { commit: '${event.head_commit.id}', ref: '${event.ref}' } } });
    const tags = await createTrigger({ pipelineId, type: 'GIT_TAG', name: 'on tag', config: { repositoryId, tags: ['simple-*'], parameters: { commit: '${git.sha}' } } });
    expect(branch.secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(branch.trigger.hookUrl).toBe(`${hooksBase()}/${branch.trigger.id}`);
    // The secret is shown once: reading the trigger again has none.
    const again = await d.ok<{ trigger: Record<string, unknown> }>(`query($id: ID!) { trigger(id: $id) { hasSecret hookUrl } }`, { id: branch.trigger.id });
    expect(again.trigger).toEqual({ hasSecret: true, hookUrl: branch.trigger.hookUrl });

    const sha = 'a'.repeat(39) + '1';
    const push = adapt(example((p) => p.ref === 'refs/heads/master' && !p.deleted), sha);
    const delivery = randomUUID();
    const first = await sendGithub(branch.trigger.hookUrl!, branch.secret!, push, { delivery });
    expect(first.status).toBe(202);
    const stored = (await first.json()) as { deliveries: { id: string }[] };
    const done = await processed(branch.trigger.id, stored.deliveries[0].id);
    expect(done).toMatchObject({ outcome: 'STARTED', providerDeliveryId: delivery, event: 'push' });
    const run = await runOf(done.runId!);
    expect(run.parameters).toEqual({ commit: sha, ref: 'refs/heads/master' });
    expect(run.artifacts.commit).toMatchObject({ type: 'git/commit', repositoryId, branch: 'master', commit: sha });
    expect(run.trigger).toEqual({ type: 'GIT_PUSH', triggerId: branch.trigger.id, deliveryId: done.id, summary: expect.stringMatching(/^push to master by Codertocat: aaaaaaa/) });

    // The same delivery again: 200, nothing new stored, no second run.
    const repeat = await sendGithub(branch.trigger.hookUrl!, branch.secret!, push, { delivery });
    expect(repeat.status).toBe(200);
    expect((await repeat.json()) as unknown).toMatchObject({ deliveries: [{ id: done.id, duplicate: true }] });

    // A wrong signature: 401, recorded as REJECTED, nothing started.
    const forged = await sendGithub(branch.trigger.hookUrl!, branch.secret!, adapt(push, 'b'.repeat(40)), { badSecret: true });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: string }).error).toMatch(/X-Hub-Signature-256 does not match/);

    // A push to a branch the trigger does not follow, and a tag push to the branch trigger: IGNORED with why.
    const other = await sendGithub(branch.trigger.hookUrl!, branch.secret!, { ...push, ref: 'refs/heads/feature/x' });
    const otherDone = await processed(branch.trigger.id, ((await other.json()) as { deliveries: { id: string }[] }).deliveries[0].id);
    expect(otherDone).toMatchObject({ outcome: 'IGNORED', runId: null, reason: expect.stringMatching(/branch "feature\/x" matches none of "master", "release\/\*"/) });

    // Tags: created starts a run; deleted starts nothing.
    const tagSha = 'c'.repeat(40);
    const created = await sendGithub(tags.trigger.hookUrl!, tags.secret!, adapt(example((p) => p.ref.startsWith('refs/tags/') && p.created), tagSha));
    expect(created.status).toBe(202);
    const tagDone = await processed(tags.trigger.id, ((await created.json()) as { deliveries: { id: string }[] }).deliveries[0].id);
    expect(tagDone.outcome).toBe('STARTED');
    const tagRun = await runOf(tagDone.runId!);
    expect(tagRun.parameters.commit).toBe(tagSha);
    expect(tagRun.trigger?.summary).toMatch(/^tag simple-tag by Codertocat: ccccccc/);
    const deleted = await sendGithub(tags.trigger.hookUrl!, tags.secret!, adapt(example((p) => p.ref.startsWith('refs/tags/') && p.deleted), tagSha));
    const deletedDone = await processed(tags.trigger.id, ((await deleted.json()) as { deliveries: { id: string }[] }).deliveries[0].id);
    expect(deletedDone).toMatchObject({ outcome: 'IGNORED', runId: null, reason: 'tag "simple-tag" was deleted: a deletion starts nothing', canRedeliver: true });

    // In all: the push's run and the tag's run, nothing else.
    const runs = await runsOf(pipelineId);
    expect(runs.map((r) => r.id).sort()).toEqual([run.id, tagRun.id].sort());
    const history = await deliveries(branch.trigger.id);
    expect(history.map((h) => h.outcome).sort()).toEqual(['IGNORED', 'REJECTED', 'STARTED']);
    expect(history.find((h) => h.outcome === 'REJECTED')).toMatchObject({ runId: null, canRedeliver: false, reason: expect.stringMatching(/X-Hub-Signature-256/) });
  });

  it('GitLab: a push hook with its token starts a run once per event UUID; disabled, it records IGNORED; a run executions refuses is REJECTED, and redelivered once fixed', async () => {
    const pipelineId = await d.pipeline(judged, [{ name: 'commit' }, { name: 'env', required: true }]);
    // `env` is required and not mapped: executions refuses the run, and the delivery says why.
    const t = await createTrigger({ pipelineId, type: 'GIT_PUSH', name: 'gitlab', config: { repositoryId, branches: ['main'], parameters: { commit: '${git.sha}' } } });
    const sha = 'd'.repeat(40);
    const payload = { object_kind: 'push', ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, checkout_sha: sha, user_username: 'jdoe', project: { git_http_url: repo.url }, commits: [{ id: sha, message: 'from gitlab', added: [], modified: ['README.md'], removed: [] }] };
    const send = (uuid: string, token = t.secret!) =>
      fetch(t.trigger.hookUrl!, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': uuid, 'x-gitlab-token': token }, body: JSON.stringify(payload) });
    expect((await send(randomUUID(), 'not-the-token')).status).toBe(401);
    const uuid = randomUUID();
    const first = await send(uuid);
    expect(first.status).toBe(202);
    const id = ((await first.json()) as { deliveries: { id: string }[] }).deliveries[0].id;
    const refused = await waitFor('executions to refuse the run', async () => (await deliveries(t.trigger.id)).find((x) => x.id === id && x.outcome === 'REJECTED'), 60_000);
    expect(refused).toMatchObject({ providerDeliveryId: uuid, canRedeliver: true, reason: expect.stringMatching(/^the run was not started: .*env/) });
    expect(await runsOf(pipelineId)).toEqual([]);
    expect((await send(uuid)).status).toBe(200);

    // Fixed (env mapped), then redelivered: a new delivery of the same event starts the run.
    await d.ok(`mutation($id: ID!, $c: JSON!) { updateTrigger(id: $id, input: { config: $c }) { id } }`, { id: t.trigger.id, c: { repositoryId, branches: ['main'], parameters: { commit: '${git.sha}', env: 'staging' } } });
    const again = (await d.ok<{ redeliverTriggerDelivery: Delivery & { redeliveryOf: string } }>(`mutation($id: ID!) { redeliverTriggerDelivery(id: $id) { id outcome reason runId summary providerDeliveryId event canRedeliver redeliveryOf } }`, { id })).redeliverTriggerDelivery;
    expect(again).toMatchObject({ outcome: 'PENDING', redeliveryOf: id, providerDeliveryId: uuid });
    const started = await processed(t.trigger.id, again.id);
    expect(started.outcome).toBe('STARTED');
    const run = await runOf(started.runId!);
    expect(run.parameters).toEqual({ commit: sha, env: 'staging' });
    expect(run.trigger?.summary).toBe('push to main by jdoe: ddddddd from gitlab');

    // Disabled: a delivery is recorded as IGNORED, nothing starts.
    await d.ok(`mutation($id: ID!) { updateTrigger(id: $id, input: { enabled: false }) { enabled } }`, { id: t.trigger.id });
    const off = await send(randomUUID());
    expect(off.status).toBe(202);
    const offId = ((await off.json()) as { deliveries: { id: string }[] }).deliveries[0].id;
    expect((await deliveries(t.trigger.id)).find((x) => x.id === offId)).toMatchObject({ outcome: 'IGNORED', reason: 'the trigger is disabled', runId: null });
    expect((await runsOf(pipelineId)).map((r) => r.id)).toEqual([run.id]);
  });

  it('refuses a config that names nothing of the pipeline, with the field to fix', async () => {
    const pipelineId = await d.pipeline(judged, [{ name: 'commit' }]);
    const res = await fetch(platform.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { trigger { id } } }`, variables: { i: { pipelineId, type: 'GIT_PUSH', name: 'bad', config: { repositoryId: randomUUID(), branches: ['/[/'], parameters: { nope: '${event.ref}' } } } } }),
    });
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string; problems?: { field: string; message: string }[] } }[] };
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0].extensions.problems?.map((p) => p.field)).toEqual(['input.config.branches[0]']);
    const second = await fetch(platform.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { trigger { id } } }`, variables: { i: { pipelineId, type: 'GIT_PUSH', name: 'bad', config: { repositoryId: randomUUID(), parameters: { nope: '${event.ref}' } } } } }),
    });
    const problems = ((await second.json()) as typeof body).errors[0].extensions.problems!;
    expect(problems.map((p) => p.field).sort()).toEqual(['input.config.parameters.nope', 'input.config.repositoryId']);
  });

  it('a git push to the test git server starts the pipeline, the run naming the commit', async () => {
    const pipelineId = await d.pipeline(judged, [{ name: 'commit' }]);
    const t = await createTrigger({ pipelineId, type: 'GIT_PUSH', name: 'on main', config: { repositoryId, branches: ['main'], paths: ['src/**'], parameters: { commit: '${git.sha}' } } });
    const api = `${testEnv('GIT_URL')}/api/v3/repos/pipewright/${name}/hooks`;
    const hook = await fetch(api, { method: 'POST', headers: { authorization: `Bearer ${testEnv('GIT_TOKEN')}`, 'content-type': 'application/json' }, body: JSON.stringify({ config: { url: t.trigger.hookUrl, secret: t.secret, content_type: 'json' }, events: ['push'] }) });
    expect(hook.status).toBe(201);
    const work = mkdtempSync(join(tmpdir(), 'pw-trigger-push-'));
    const git = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile('git', ['-C', work, '-c', `http.extraHeader=Authorization: Bearer ${testEnv('GIT_TOKEN')}`, '-c', 'user.name=alice', '-c', 'user.email=alice@pipewright.invalid', ...args], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: work, GIT_TERMINAL_PROMPT: '0' } }, (err, stdout, stderr) =>
          err ? reject(new Error(`git ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout.trim()),
        ),
      );
    try {
      await git(['clone', '--quiet', repo.url, '.']);
      // A change outside src/: the path filter ignores it.
      await git(['commit', '--quiet', '--allow-empty', '-m', 'docs only']);
      await git(['push', '--quiet', 'origin', 'main']);
      const ignored = await waitFor('the docs push to be processed', async () => (await deliveries(t.trigger.id)).find((x) => x.outcome !== 'PENDING'), 60_000);
      expect(ignored).toMatchObject({ outcome: 'IGNORED', reason: expect.stringMatching(/no changed file matches the path filters "src\/\*\*"/) });
      await git(['mv', 'src/app.txt', 'src/app2.txt']);
      await git(['commit', '--quiet', '-m', 'move the app']);
      const sha = await git(['rev-parse', 'HEAD']);
      await git(['push', '--quiet', 'origin', 'main']);
      const started = await waitFor('the push to start a run', async () => (await deliveries(t.trigger.id)).find((x) => x.outcome === 'STARTED'), 60_000);
      const run = await runOf(started.runId!);
      expect(run.parameters.commit).toBe(sha);
      expect(run.trigger?.summary).toBe(`push to main by git: ${sha.slice(0, 7)} move the app`);
      expect(run.artifacts.commit).toMatchObject({ type: 'git/commit', repositoryId, branch: 'main', commit: sha });
      expect((await runsOf(pipelineId)).map((r) => r.id)).toEqual([run.id]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('a PIPELINE trigger starts B when A succeeds, not when A fails', async () => {
    // A: a judgement, then (only when its value is "fail") a webhook to an address nothing may call, which fails the run.
    const a = await d.pipeline([
      { refId: 'wait', name: 'Wait', type: 'JUDGEMENT', config: { description: 'how?', options: ['ok', 'fail'] } },
      { refId: 'gate', name: 'Gate', type: 'PRECONDITION', dependsOn: ['wait'], config: { judgementRefId: 'wait', values: ['fail'], mode: 'MATCHED' } },
      { refId: 'boom', name: 'Boom', type: 'WEBHOOK', dependsOn: ['gate'], config: { method: 'GET', url: 'http://127.0.0.1:9/refused' } },
    ]);
    const b = await d.pipeline(judged, [{ name: 'upstream' }]);
    const t = await createTrigger({ pipelineId: b, type: 'PIPELINE', name: 'after A', config: { pipelineId: a, statuses: ['SUCCEEDED'], parameters: { upstream: '${event.runId}' } } });
    expect(t.trigger.hookUrl).toBeNull();
    expect(t.secret).toBeNull();
    const judge = (runId: string, value: string) => d.ok(`mutation($r: ID!, $v: String) { judge(runId: $r, refId: "wait", decision: CONTINUE, value: $v) { status } }`, { r: runId, v: value });

    const ok = await d.start(a);
    await d.reach(ok.id, ['WAITING']);
    await judge(ok.id, 'ok');
    expect((await d.reach(ok.id)).status).toBe('SUCCEEDED');
    const started = await waitFor('B to start after A succeeded', async () => (await deliveries(t.trigger.id)).find((x) => x.outcome === 'STARTED'), 60_000);
    const bRun = await runOf(started.runId!);
    expect(bRun.parameters.upstream).toBe(ok.id);
    expect(bRun.trigger?.summary).toMatch(/^pipeline "triggers-.*" run #1 SUCCEEDED$/);

    const failing = await d.start(a);
    await d.reach(failing.id, ['WAITING']);
    await judge(failing.id, 'fail');
    expect((await d.reach(failing.id)).status).toBe('FAILED');
    const ignored = await waitFor('the failed run to be seen', async () => (await deliveries(t.trigger.id)).find((x) => x.outcome === 'IGNORED'), 60_000);
    expect(ignored.reason).toMatch(/run #2 of pipeline "triggers-.*" ended FAILED; this trigger starts on SUCCEEDED/);
    expect((await runsOf(b)).map((r) => r.id)).toEqual([bRun.id]);

    // B following A while A follows B would start each other for ever: refused, naming the field.
    const loop = await gqlErrors(`mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { trigger { id } } }`, { i: { pipelineId: a, type: 'PIPELINE', name: 'after B', config: { pipelineId: b } } });
    expect(loop).toMatchObject({ code: 'BAD_USER_INPUT', problems: [{ field: 'input.config.pipelineId', message: expect.stringMatching(/would start each other for ever/) }] });
  });

  it('SIGKILL of the triggers service right after it answered 202: the run still starts, once', async () => {
    const pipelineId = await d.pipeline(judged, [{ name: 'commit' }]);
    const t = await createTrigger({ pipelineId, type: 'WEBHOOK', name: 'generic', config: { constraints: [{ path: '$.action', equals: 'release' }], parameters: { commit: '${event.sha}' } } });
    const res = await fetch(t.trigger.hookUrl!, { method: 'POST', headers: { authorization: `Bearer ${t.secret}`, 'content-type': 'application/json', 'idempotency-key': 'release-1' }, body: JSON.stringify({ action: 'release', sha: 'abc123' }) });
    expect(res.status).toBe(202);
    platform.processes.triggers.child.kill('SIGKILL');
    await platform.processes.triggers.exited;
    await platform.restart('triggers');
    const started = await waitFor('the delivery to start its run after the crash', async () => (await deliveries(t.trigger.id)).find((x) => x.outcome === 'STARTED'), 60_000);
    await runOf(started.runId!);
    const run = await d.reach(started.runId!, ['WAITING']);
    expect(run.parameters.commit).toBe('abc123');
    // Sent again after the crash: the same delivery id starts nothing.
    const again = await fetch(t.trigger.hookUrl!, { method: 'POST', headers: { authorization: `Bearer ${t.secret}`, 'content-type': 'application/json', 'idempotency-key': 'release-1' }, body: JSON.stringify({ action: 'release', sha: 'abc123' }) });
    expect(again.status).toBe(200);
    expect((await runsOf(pipelineId)).map((r) => r.id)).toEqual([run.id]);
    const [{ count }] = await serviceQuery<{ count: number }>(platform, 'executions', `SELECT count(*)::int AS count FROM runs WHERE trigger->>'triggerId' = $1`, [t.trigger.id]);
    expect(count).toBe(1);
  });
});
