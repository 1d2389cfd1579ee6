// The web console in Debian's chromium (playwright-core), against the real platform: sign-in at the
// real OpenID provider, environment settings with their connection tests (the test environment's
// git server and registry), a pipeline built by clicking, run live (a hosted build whose log is
// watched while it runs, a judgement, a webhook), an approval only the approver may decide, and a
// lost WebSocket that comes back without missing the run's state. A screenshot of each page goes
// to test-output/console/.
import {
  devUserPasswords,
  gql,
  hostPortOf,
  launchChromium,
  providerMinter,
  startOutsideHost,
  startPlatform,
  testEnv,
  testOutputDir,
  waitFor,
  type ChromiumBrowser,
  type ChromiumPage,
  type OutsideHost,
  type TestPlatform,
  type TokenMinter,
} from '@pipewright/testing';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, WebSocketRoute } from 'playwright-core';

const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;
const shots = testOutputDir('console');

/** Webhook target and build gate: `/ok` answers at once; `/gate` holds its answer until released. */
class HookTarget {
  private server!: Server;
  private held: ServerResponse[] = [];
  private open = false;
  calls: string[] = [];
  url = '';
  async start() {
    this.server = createServer((req, res) => {
      this.calls.push(req.url ?? '');
      if (req.url === '/gate' && !this.open) return void this.held.push(res);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    // On every address: the build reaches it through the outside host (its network is sandboxed), webhooks on loopback.
    await new Promise<void>((r) => this.server.listen(0, '0.0.0.0', r));
    this.url = `http://127.0.0.1:${this.port}`;
  }
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }
  release() {
    this.open = true;
    for (const r of this.held.splice(0)) r.writeHead(200).end('open');
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

describe('the web console in Chromium', () => {
  let platform: TestPlatform;
  let browser: ChromiumBrowser;
  let base: string;
  let workspaces: string;
  let mint: TokenMinter;
  const hooks = new HookTarget();
  /** Where the build (sandboxed) reaches the gate: a host outside, in a network namespace of the test's. */
  let outside: OutsideHost;
  let gateUrl: string;
  const passwords = devUserPasswords();
  const names = { repo: unique('shop-repo'), registry: unique('shop-registry'), pipeline: unique('shop-pipeline'), namespace: unique('team'), secret: `SHOP_${randomBytes(3).toString('hex').toUpperCase()}` };

  beforeAll(async () => {
    workspaces = mkdtempSync(join(tmpdir(), 'pw-console-spec-'));
    mint = await providerMinter();
    await hooks.start();
    outside = await startOutsideHost();
    gateUrl = await outside.forward(hooks.port);
    platform = await startPlatform(
      'console',
      { OIDC_ISSUER: testEnv('OIDC_ISSUER'), OIDC_AUDIENCE: `${testEnv('OIDC_AUDIENCE')},pipewright-console` },
      {
        projects: { PROJECT_MEMBERS_BOOTSTRAP: 'developer=DEVELOPER+ADMIN,approver=APPROVAL_ADMIN+VIEWER' },
        builds: { GIT_BIN: 'git', HELM_BIN: testEnv('HELM_BIN'), BUILDAH_BIN: testEnv('BUILDAH_BIN'), BUILD_WORKSPACE_DIR: workspaces, BUILDS_INSTANCE_ID: 'console-spec' },
      },
      { mint, outbound: [hostPortOf(hooks.url)] },
    );
    base = platform.gatewayUrl.replace(/\/graphql$/, '');
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await hooks.stop();
    await outside?.stop();
    if (workspaces) rmSync(workspaces, { recursive: true, force: true });
  });

  /** A fresh browser profile signed in at the OpenID provider as `username`, on the console's start page. */
  async function signIn(username: string, prepare?: (context: BrowserContext) => Promise<void>): Promise<{ context: BrowserContext; page: ChromiumPage }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await prepare?.(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`[${username} page] ${e.message}`));
    context.on('console', (m) => m.type() === 'error' && /Content Security Policy/i.test(m.text()) && cspViolations.push(m.text()));
    await page.goto(`${base}/`);
    // The provider's own sign-in page (another origin), then back to the console.
    await page.waitForURL((u) => u.href.startsWith(testEnv('OIDC_ISSUER')));
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(passwords[username]);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/p/default/pipelines`);
    return { context, page };
  }

  /** Waits until the field is marked invalid and returns the error shown at it (the console's `<id>-error`). */
  async function fieldError(input: Locator): Promise<string> {
    const id = await input.getAttribute('id');
    const page = input.page();
    await page.locator(`[id="${id}"][aria-invalid="true"]`).waitFor();
    return page.locator(`[id="${id}-error"]`).innerText();
  }

  /** What the browser refused under the console's Content-Security-Policy, in every page of every test. */
  const cspViolations: string[] = [];

  const shot = (page: ChromiumPage, name: string) => page.screenshot({ path: join(shots, `${name}.png`) });

  it('is served by the gateway at /, with history-API routes falling back to index.html', async () => {
    const index = await fetch(`${base}/p/default/runs/anything?x=1`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toContain('<div id="root">');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect((await fetch(`${base}/index.html`)).headers.get('cache-control')).toBe('no-cache');
    // Hashed assets are cached for good; a missing one is a 404, not the page.
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await (await fetch(`${base}/`)).text())![1];
    expect((await fetch(`${base}${asset}`)).headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(`${base}/assets/nothing-here.js`)).status).toBe(404);
    const settings = (await (await fetch(`${base}/console-config.json`)).json()) as Record<string, string>;
    expect(settings).toMatchObject({ auth: 'oidc', issuer: testEnv('OIDC_ISSUER'), clientId: 'pipewright-console', graphqlPath: '/graphql' });
    // The API keeps its paths: /graphql is not the console.
    const api = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(api.status).toBe(401);
  });

  let developer: { context: BrowserContext; page: ChromiumPage };

  it('signs the developer in through the OpenID provider', async () => {
    developer = await signIn('developer');
    const { page } = developer;
    await page.getByRole('banner').getByText('Developer').waitFor();
    await expect(page.getByRole('combobox', { name: 'Project' }).inputValue()).resolves.toBe('default');
    await page.getByText('live', { exact: true }).waitFor();
    await shot(page, 'pipelines-empty');
  });

  it('creates a source repository and an image registry and tests their connections', async () => {
    const { page } = developer;
    await page.getByRole('link', { name: 'Environment settings' }).click();
    await page.getByRole('tab', { name: 'Source repositories' }).waitFor();

    await page.getByRole('button', { name: 'New source repository' }).click();
    const form = page.getByRole('dialog', { name: 'New source repository' });
    await form.getByLabel('Name', { exact: true }).fill(names.repo);
    await form.getByLabel('Provider').selectOption('GITHUB');
    // A wrong URL first: the server's error is shown at the URL field, and nothing is created.
    await form.getByLabel('URL', { exact: true }).fill('not a url');
    await form.getByLabel('Default branch').fill('main');
    await form.getByLabel('Token').fill(testEnv('GIT_TOKEN'));
    await form.getByRole('button', { name: 'Save' }).click();
    expect(await fieldError(form.getByLabel('URL', { exact: true }))).toMatch(/url|URL/);
    await form.getByLabel('URL', { exact: true }).fill(testEnv('GIT_SAMPLE_REPO_URL'));
    await form.getByRole('button', { name: 'Save' }).click();
    await form.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: names.repo }).waitFor();
    await page.getByRole('button', { name: `Test connection ${names.repo}` }).click();
    const repoProbe = page.getByRole('status', { name: `Connection test of ${names.repo}` });
    await repoProbe.getByText('Connected').waitFor();
    await repoProbe.getByText('main').first().waitFor(); // the branches the probe found
    await shot(page, 'settings-source-repositories');

    await page.getByRole('tab', { name: 'Image registries' }).click();
    await page.getByRole('button', { name: 'New image registry' }).click();
    const reg = page.getByRole('dialog', { name: 'New image registry' });
    await reg.getByLabel('Name', { exact: true }).fill(names.registry);
    await reg.getByLabel('URL', { exact: true }).fill(testEnv('REGISTRY_URL'));
    await reg.getByLabel('Namespace').fill(names.namespace);
    await reg.getByLabel('Insecure').check();
    await reg.getByRole('button', { name: 'Save' }).click();
    await reg.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: `Test connection ${names.registry}` }).click();
    await page.getByRole('status', { name: `Connection test of ${names.registry}` }).getByText('Connected').waitFor();
    await shot(page, 'settings-image-registries');

    // A secret: its name is checked by the server (shown at the field), its value is never shown again.
    const secretValue = `console-${randomBytes(6).toString('hex')}`;
    await page.getByRole('tab', { name: 'Secrets' }).click();
    await page.getByRole('button', { name: 'New secret' }).click();
    const sec = page.getByRole('dialog', { name: 'New secret' });
    await sec.getByLabel('Name', { exact: true }).fill('shop-token');
    await sec.getByLabel('Value').fill(secretValue);
    await sec.getByRole('button', { name: 'Save' }).click();
    expect(await fieldError(sec.getByLabel('Name', { exact: true }))).toMatch(/must be letters, digits and "_"/);
    await sec.getByLabel('Name', { exact: true }).fill(names.secret);
    await sec.getByRole('button', { name: 'Save' }).click();
    await sec.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: `\${secrets.${names.secret}}`, exact: true }).waitFor();
    expect(await page.getByRole('button', { name: `Test connection ${names.secret}` }).count()).toBe(0); // nothing to connect to
    expect(await page.content()).not.toContain(secretValue);
    await shot(page, 'settings-secrets');
  });

  /** "+Add Stage", then the type's button in the dialog; resolves to the new stage's form. */
  async function addStage(page: ChromiumPage, typeLabel: string): Promise<Locator> {
    await page.getByRole('button', { name: '+Add Stage' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add stage' });
    for (const group of ['Source', 'Build', 'Deployment', 'Feature']) await dialog.getByRole('heading', { name: group, exact: true }).waitFor();
    await dialog.getByRole('button', { name: typeLabel, exact: true }).click();
    const form = page.getByRole('region', { name: `Stage ${typeLabel}` });
    await form.waitFor();
    return form;
  }

  /** The build command waits at the gate (a request the test answers when it wants), so the log is watched mid-build. */
  const buildCommand = () => `echo waiting for the gate; wget -q -O /dev/null ${gateUrl}/gate; echo through the gate; sh build.sh`;

  it('builds Source -> Build -> Judgement -> Webhook by clicking, and fixes the validation error the server reports', async () => {
    const { page } = developer;
    await page.getByRole('link', { name: 'Pipelines' }).click();
    await page.getByRole('button', { name: 'Create pipeline' }).click();
    const create = page.getByRole('dialog');
    await create.getByLabel('Name', { exact: true }).fill(names.pipeline);
    await create.getByRole('button', { name: 'Create' }).click();
    await page.getByText('Revision 1').waitFor();

    const source = await addStage(page, 'Source (GitHub)');
    await source.getByLabel('Repository').selectOption({ label: names.repo });
    // Its end condition makes the commit it resolved a run artifact, which the build then checks out.
    await source.getByLabel('End condition').fill('{"artifacts":[{"name":"commit","from":"artifact"}]}');

    const build = await addStage(page, 'Build (hosted)');
    await build.getByLabel('Build image').fill(testEnv('BASE_IMAGE'));
    await build.getByLabel('Registry').selectOption({ label: names.registry });
    await build.getByLabel('Image name').fill('shop');
    await build.getByLabel('Build command').fill(buildCommand());

    const judgement = await addStage(page, 'Judgement');
    await judgement.getByRole('button', { name: 'Add Options' }).click();
    await judgement.getByRole('textbox', { name: 'Options 1' }).fill('ship');
    await judgement.getByRole('button', { name: 'Add Options' }).click();
    await judgement.getByRole('textbox', { name: 'Options 2' }).fill('hold');

    const webhook = await addStage(page, 'Webhook');
    await webhook.getByLabel('URL', { exact: true }).fill('ftp://not-http');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    // The server refuses it, naming stages[3].config.url: the error is shown at that field.
    expect(await fieldError(webhook.getByLabel('URL', { exact: true }))).toMatch(/http/);
    await expect(page.getByText('Revision 1').isVisible()).resolves.toBe(true);
    await shot(page, 'pipeline-editor-error');

    await webhook.getByLabel('URL', { exact: true }).fill(`${hooks.url}/ok`);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Revision 2').waitFor();
    // The graph holds the four stages, each depending on the one before.
    for (const [from, to] of [['Source (GitHub)', 'Build (hosted)'], ['Build (hosted)', 'Judgement'], ['Judgement', 'Webhook']]) {
      await page
        .getByLabel(`Dependency from ${from} to ${to}`)
        .waitFor({ state: 'attached', timeout: 60_000 })
        .catch(async (err: Error) => {
          // Say what the graph drew instead (seen once under CI load: no edge at all after 30 s).
          const drawn = await page.locator('[aria-roledescription="edge"]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
          await shot(page, 'failed-pipeline-editor-edges');
          throw new Error(`${err.message}\nedges drawn: ${drawn.join(' | ') || 'none'}`);
        });
    }
    await shot(page, 'pipeline-editor');
  });

  /** The run graph's node of a stage, by its accessible name "<stage name>: <STATUS>". */
  const node = (page: ChromiumPage, stage: string, status: string) => {
    const locator = page.getByRole('button', { name: `${stage}: ${status}`, exact: true });
    return {
      // On a timeout, say what the graph showed instead.
      waitFor: (timeout = 60_000) =>
        locator.waitFor({ timeout }).catch(async (err: Error) => {
          const shown = await page.locator('[aria-label*=": "][role="button"]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
          await page.screenshot({ path: join(shots, `failed-${stage.replace(/\W+/g, '-')}-${status}.png`) });
          throw new Error(`${err.message}\nthe graph showed: ${shown.join(' | ')}`);
        }),
    };
  };

  it('runs it and watches it live: the build log streams while the build runs, a judgement is chosen, the webhook succeeds', async () => {
    const { context, page } = developer;
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Run ${names.pipeline}` });
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/p\/default\/runs\/[0-9a-f-]{36}$/);
    // Marks this document: if the page were reloaded, the mark would be gone.
    await page.evaluate(() => ((globalThis as unknown as { pwNoReload: boolean }).pwNoReload = true));

    // Every stage is drawn from the start, those not started yet included.
    await node(page, 'Webhook', 'NOT_STARTED').waitFor();
    await node(page, 'Judgement', 'NOT_STARTED').waitFor();
    await node(page, 'Build (hosted)', 'RUNNING').waitFor();
    await node(page, 'Source (GitHub)', 'SUCCEEDED').waitFor();
    await shot(page, 'run-building');

    // The build's log in a second tab, from the builds list: lines arrive while the build waits at the gate.
    const logPage = await context.newPage();
    await logPage.goto(`${base}/p/default/builds`);
    // Source stages are builds too: the row of the hosted build's stage.
    await logPage.getByRole('row').filter({ hasText: 'Build (hosted)' }).getByRole('link', { name: '#1', exact: true }).click();
    const log = logPage.getByRole('log', { name: 'Build log' });
    await log.locator('.log-line', { hasText: /^waiting for the gate$/ }).waitFor();
    expect(await log.locator('.log-line', { hasText: /^through the gate$/ }).count()).toBe(0);
    await logPage.getByRole('status').filter({ hasText: 'streaming…' }).waitFor();
    await shot(logPage, 'build-log-streaming');
    hooks.release();
    await log.locator('.log-line', { hasText: /^through the gate$/ }).waitFor();
    await logPage.getByRole('status').filter({ hasText: /^complete$/ }).waitFor();
    await shot(logPage, 'build-log');
    await logPage.close();

    // Back on the run page, never reloaded: the build succeeded and the judgement waits.
    await node(page, 'Build (hosted)', 'SUCCEEDED').waitFor();
    await node(page, 'Judgement', 'WAITING').waitFor();
    await shot(page, 'run-judgement');
    await page.getByRole('group', { name: 'Decide Judgement' }).first().getByRole('button', { name: 'ship', exact: true }).click();
    await node(page, 'Webhook', 'SUCCEEDED').waitFor();
    await page.getByRole('status', { name: 'Run status: SUCCEEDED' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { pwNoReload?: boolean }).pwNoReload)).toBe(true);
    expect(hooks.calls).toContain('/ok');
    await shot(page, 'run-succeeded');
  });

  /** The GraphQL API as a signed-in person would call it (tokens of the development provider). */
  async function api<T>(sub: 'developer' | 'approver', query: string, variables: Record<string, unknown>): Promise<T> {
    // No platform roles: what they may do comes from their memberships (PROJECT_MEMBERS_BOOTSTRAP).
    const token = await mint({ sub, roles: [] });
    const res = await gql<T>(platform.gatewayUrl, query, { token, variables });
    if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
    return res.data!;
  }
  let approvalPipeline = '';
  const startApprovalRun = async () => {
    if (!approvalPipeline) {
      const stages = [{ refId: 'release', name: 'Release approval', type: 'APPROVAL', config: { description: 'Release to production', message: 'Ship it?' } }];
      approvalPipeline = (await api<{ createPipeline: { id: string } }>('developer', 'mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }', { i: { name: unique('release'), stages } })).createPipeline.id;
    }
    const run = (await api<{ runPipeline: { id: string } }>('developer', 'mutation($p: ID!) { runPipeline(pipelineId: $p) { id } }', { p: approvalPipeline })).runPipeline;
    return `${base}/p/default/runs/${run.id}`;
  };

  it('lets the approver approve an approval stage that the developer could not', async () => {
    const url = await startApprovalRun();
    const { page } = developer;
    await page.goto(url);
    await node(page, 'Release approval', 'WAITING').waitFor();
    const approve = page.getByRole('button', { name: 'Approve', exact: true });
    await approve.waitFor();
    expect(await approve.isDisabled()).toBe(true);
    await page.getByText(/APPROVAL_ADMIN/).first().waitFor(); // who may approve instead
    await shot(page, 'approval-developer');

    const approver = await signIn('approver');
    await approver.page.goto(url);
    await node(approver.page, 'Release approval', 'WAITING').waitFor();
    expect(await approver.page.getByRole('button', { name: 'Approve', exact: true }).isEnabled()).toBe(true);
    await approver.page.getByLabel('Comment').fill('looks good');
    await approver.page.getByRole('button', { name: 'Approve', exact: true }).click();
    await node(approver.page, 'Release approval', 'SUCCEEDED').waitFor();
    await approver.page.getByRole('status', { name: 'Run status: SUCCEEDED' }).waitFor();
    await shot(approver.page, 'approval-approved');
    // The developer's page, open all along, saw it too.
    await node(page, 'Release approval', 'SUCCEEDED').waitFor();
    await approver.context.close();
  });

  it('shows "reconnecting" when the WebSocket is lost and catches up with what happened meanwhile', async () => {
    const url = await startApprovalRun();
    let cut = false;
    const sockets: WebSocketRoute[] = [];
    const sent: string[] = [];
    // Between the page and the gateway: while `cut`, every connection attempt is closed at once;
    // otherwise what the page sends is recorded and passed on.
    const watcher = await signIn('developer', (context) =>
      context.routeWebSocket(/\/graphql$/, (ws) => {
        if (cut) return void ws.close({ code: 1006, reason: 'cut by the test' }).catch(() => undefined);
        sockets.push(ws);
        const server = ws.connectToServer();
        ws.onMessage((message) => {
          sent.push(String(message));
          server.send(message);
        });
      }),
    );
    const { page } = watcher;
    await page.goto(url);
    await node(page, 'Release approval', 'WAITING').waitFor();
    await page.getByText('live', { exact: true }).waitFor();

    const runId = url.split('/').pop()!;
    const shownSequence = (await api<{ run: { sequence: number } }>('developer', 'query($r: ID!) { run(id: $r) { sequence } }', { r: runId })).run.sequence;
    cut = true;
    const sentBeforeCut = sent.length;
    await Promise.all(sockets.splice(0).map((ws) => ws.close({ code: 1006, reason: 'cut by the test' })));
    await page.getByText('reconnecting…', { exact: true }).waitFor();
    // While the console is cut off, the approver decides.
    await api('approver', 'mutation($r: ID!) { approve(runId: $r, refId: "release", decision: CONTINUE, comment: "while you were away") { status } }', { r: runId });
    await waitFor('the run to succeed', async () => (await api<{ run: { status: string } }>('developer', 'query($r: ID!) { run(id: $r) { status } }', { r: runId })).run.status === 'SUCCEEDED', 60_000);
    expect(await page.getByRole('button', { name: 'Release approval: WAITING', exact: true }).count()).toBe(1);
    await shot(page, 'reconnecting');

    cut = false;
    await node(page, 'Release approval', 'SUCCEEDED').waitFor();
    await page.getByRole('status', { name: 'Run status: SUCCEEDED' }).waitFor();
    await page.getByText('live', { exact: true }).waitFor();
    // It asked for what it had missed: runUpdated again, after the sequence it had shown.
    const resubscribed = sent
      .slice(sentBeforeCut)
      .map((m) => JSON.parse(m) as { type: string; payload?: { query?: string; variables?: { runId?: string; afterSequence?: number } } })
      .filter((m) => m.type === 'subscribe' && m.payload?.query?.includes('runUpdated'));
    expect(resubscribed.map((m) => m.payload!.variables)).toContainEqual(expect.objectContaining({ runId, afterSequence: shownSequence }));
    await watcher.context.close();
  });

  it('adds a GIT_PUSH trigger in the Triggers tab, shows its secret once; a signed push starts a run that shows the trigger', async () => {
    const { page } = developer;
    const stages = [{ refId: 'wait', name: 'Wait', type: 'JUDGEMENT', config: { description: 'ship?', options: ['ship'] } }];
    const pipelineId = (await api<{ createPipeline: { id: string } }>('developer', 'mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }', { i: { name: unique('triggered'), stages } })).createPipeline.id;
    await page.goto(`${base}/p/default/pipelines/${pipelineId}`);
    await page.getByRole('tab', { name: 'Triggers' }).click();
    await page.getByRole('button', { name: 'New trigger' }).click();
    const form = page.getByRole('form', { name: 'New trigger' });
    await form.getByLabel('Type', { exact: true }).selectOption('GIT_PUSH');
    await form.getByLabel('Name', { exact: true }).fill('push-main');
    await form.getByLabel('Repository', { exact: true }).selectOption({ label: names.repo });
    await form.getByLabel('Branches 1', { exact: true }).fill('main');
    await form.getByRole('button', { name: 'Create trigger' }).click();
    const once = page.getByRole('region', { name: 'Hook URL and secret' });
    const hookUrl = await once.getByLabel('Hook URL', { exact: true }).inputValue();
    const secret = await once.getByLabel('Secret', { exact: true }).inputValue();
    expect(hookUrl).toMatch(new RegExp(`^${base}/hooks/[0-9a-f-]{36}$`));
    expect(secret.length).toBeGreaterThanOrEqual(40);
    await shot(page, 'trigger-secret-shown-once');
    await once.getByRole('button', { name: 'Done' }).click();
    await once.waitFor({ state: 'detached' });
    await page.getByRole('table', { name: 'Triggers' }).getByRole('row', { name: /push-main/ }).waitFor();
    expect(await page.getByText(secret).count()).toBe(0);

    // GitHub's push event, signed with the secret, through the gateway's /hooks.
    const sha = randomBytes(20).toString('hex');
    const body = JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, created: false, deleted: false, head_commit: { id: sha, message: 'ship the shop' }, commits: [], pusher: { name: 'alice' }, repository: { name: 'shop', clone_url: testEnv('GIT_SAMPLE_REPO_URL') } });
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const res = await fetch(hookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature }, body });
    expect(res.status).toBe(202);

    await page.getByRole('button', { name: 'Details of push-main' }).click();
    const history = page.getByRole('region', { name: 'Deliveries of push-main' });
    const runLink = history.getByRole('link', { name: /^Run #1 / });
    for (let i = 0; !(await runLink.count()); i++) {
      // The list does not refresh by itself: ask again until the delivery is processed (bounded).
      if (i > 60) throw new Error('the delivery did not start a run');
      await history.getByRole('button', { name: 'Refresh' }).click();
      await history.getByText(/STARTED|PENDING/).first().waitFor();
    }
    await shot(page, 'pipeline-triggers');
    await runLink.click();
    await page.getByText(`GIT_PUSH: push to main by alice: ${sha.slice(0, 7)} ship the shop`).waitFor();
    await shot(page, 'run-started-by-trigger');
  });

  it('creates an API token, shows it once, and revokes it; the other pages are kept as screenshots', async () => {
    const { page } = developer;
    await page.goto(`${base}/p/default/tokens`);
    await page.getByRole('button', { name: 'New API token' }).click();
    const form = page.getByRole('form', { name: 'New API token' });
    const tokenName = unique('ci');
    await form.getByLabel('Name', { exact: true }).fill(tokenName);
    await form.getByLabel('DEVELOPER', { exact: true }).check();
    await form.getByRole('button', { name: 'Create token' }).click();
    const once = page.getByRole('region', { name: 'New token' });
    const token = await once.getByLabel('Token', { exact: true }).inputValue();
    expect(token).toMatch(/^pwt_/);
    // The token works for the API, with the role it was given.
    const viewer = await gql<{ viewer: { via: string } }>(platform.gatewayUrl, '{ viewer { via } }', { token });
    expect(viewer.data?.viewer.via).toBe('api-token');
    await shot(page, 'token-shown-once');
    await once.getByRole('button', { name: 'Done' }).click();
    await once.waitFor({ state: 'detached' });
    // Shown only that once: the list has its name, never its value.
    await page.getByRole('cell', { name: tokenName }).waitFor();
    expect(await page.getByText(token).count()).toBe(0);
    await page.getByRole('button', { name: `Revoke ${tokenName}` }).click();
    await page.getByRole('dialog', { name: `Revoke ${tokenName}?` }).getByRole('button', { name: 'Revoke', exact: true }).click();
    await page.getByRole('cell', { name: tokenName }).waitFor({ state: 'detached' });
    expect((await gql(platform.gatewayUrl, '{ viewer { via } }', { token })).status).toBe(401);

    const pages: [string, string, (p: ChromiumPage) => Locator][] = [
      ['members', 'members', (p) => p.getByRole('cell', { name: 'approver' }).first()],
      ['runs', 'runs', (p) => p.getByRole('link', { name: '#1', exact: true }).first()],
      ['builds', 'builds', (p) => p.getByRole('row').filter({ hasText: 'Build (hosted)' }).first()],
      ['settings/deployment-targets', 'settings-deployment-targets', (p) => p.getByRole('button', { name: 'New deployment target' })],
    ];
    for (const [path, name, ready] of pages) {
      await page.goto(`${base}/p/default/${path}`);
      await ready(page).waitFor();
      await shot(page, name);
    }
  });

  it('kept within its Content-Security-Policy on every page the tests opened', () => {
    expect(cspViolations).toEqual([]);
  });
});
