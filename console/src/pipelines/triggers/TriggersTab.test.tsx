import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { GraphQLError } from 'graphql';
import { CombinedError } from 'urql';
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTriggerInput, PipelineEditorFieldsFragment, PipelineTriggerDeliveriesQuery, UpdateTriggerInput } from '../../gql/graphql';
import fixture from '../__fixtures__/stage-types.json';
import { PipelineEditor } from '../editor/PipelineEditor';
import { IDS, PROJECT_ID, renderInProject, resourceName, type FakeApi } from '../test/harness';
import type { PipelineParameter, TriggerFields } from './TriggerForm';
import { TriggersTab } from './TriggersTab';

afterEach(cleanup);

const PIPELINE_ID = '88888888-8888-4888-8888-888888888888';
const HOOK = 'https://pipewright.example.com/hooks/triggers/t-push';
const SECRET = 'c2VjcmV0LXNob3duLW9uY2U';
const PARAMETERS: PipelineParameter[] = [{ name: 'version', label: 'Version', description: null, default: null, required: true, options: null }];

const trigger = (over: Partial<TriggerFields> = {}): TriggerFields => ({
  id: 't-push',
  pipelineId: PIPELINE_ID,
  type: 'GIT_PUSH',
  name: 'push-main',
  config: { repositoryId: IDS.SOURCE_REPOSITORY, branches: ['main', 'release/*'], parameters: {}, artifactName: 'commit' },
  enabled: true,
  createdBy: 'dev',
  createdAt: '2026-01-01T10:00:00Z',
  updatedAt: '2026-01-01T10:00:00Z',
  hookUrl: HOOK,
  hasSecret: true,
  nextFireAt: null,
  ...over,
});
const CRON = trigger({ id: 't-cron', type: 'CRON', name: 'nightly', config: { expression: '0 0 3 * * *', timezone: 'Europe/Berlin', missedRuns: 'FIRE_ONCE', catchUpLimit: 10, parameters: {} }, hookUrl: null, hasSecret: false, nextFireAt: '2026-01-02T02:00:00Z' });

type Delivery = NonNullable<PipelineTriggerDeliveriesQuery['trigger']>['deliveries']['edges'][number]['node'];
const delivery = (n: number, over: Partial<Delivery> = {}): Delivery => ({
  id: `d${n}`,
  receivedAt: `2026-01-01T11:00:${String(n).padStart(2, '0')}Z`,
  providerDeliveryId: `gh-${n}`,
  event: 'push',
  outcome: 'STARTED',
  reason: null,
  summary: `push to main by alice: abc12${n}`,
  runId: null,
  run: null,
  redeliveryOf: null,
  canRedeliver: false,
  ...over,
});

const connection = <T,>(nodes: T[], hasNextPage = false, endCursor: string | null = nodes.length ? `c${nodes.length}` : null) => ({ totalCount: nodes.length, pageInfo: { hasNextPage, endCursor }, edges: nodes.map((node) => ({ node })) });
const badInput = (problems: { field: string; message: string }[]) => new CombinedError({ graphQLErrors: [new GraphQLError(problems[0].message, { extensions: { code: 'BAD_USER_INPUT', problems } })] });

/** A fake triggers API over a list that the mutations change; records what they were sent. */
function api(list: TriggerFields[], more: FakeApi = {}) {
  const calls = { create: [] as CreateTriggerInput[], update: [] as { id: string; input: UpdateTriggerInput }[], redeliver: [] as string[], deliveries: [] as Record<string, unknown>[], rotate: [] as string[], remove: [] as string[] };
  let createError: CombinedError | null = null;
  const fake: FakeApi = {
    queries: {
      PipelineTriggers: () => ({ triggers: connection(list) }),
      ...more.queries,
    },
    mutations: {
      PipelineTriggerCreate: (v) => {
        const input = v.input as CreateTriggerInput;
        calls.create.push(input);
        if (createError) {
          const error = createError;
          createError = null;
          return { error };
        }
        const hook = input.type !== 'CRON' && input.type !== 'PIPELINE';
        const created = trigger({ id: `t-new-${calls.create.length}`, type: input.type, name: input.name, config: input.config, enabled: input.enabled ?? true, hookUrl: hook ? HOOK : null, hasSecret: hook });
        list.push(created);
        return { data: { createTrigger: { secret: hook ? SECRET : null, trigger: created } } };
      },
      PipelineTriggerUpdate: (v) => {
        const { id, input } = v as { id: string; input: UpdateTriggerInput };
        calls.update.push({ id, input });
        const i = list.findIndex((t) => t.id === id);
        list[i] = { ...list[i], ...(input.enabled != null ? { enabled: input.enabled } : {}), ...(input.name != null ? { name: input.name } : {}), ...(input.config != null ? { config: input.config } : {}) };
        return { data: { updateTrigger: list[i] } };
      },
      PipelineTriggerRotateSecret: (v) => {
        calls.rotate.push(v.id as string);
        return { data: { rotateTriggerSecret: { secret: 'bmV3LXNlY3JldA', trigger: list.find((t) => t.id === v.id) } } };
      },
      PipelineTriggerDelete: (v) => {
        calls.remove.push(v.id as string);
        list.splice(
          list.findIndex((t) => t.id === v.id),
          1,
        );
        return { data: { deleteTrigger: v.id } };
      },
      ...more.mutations,
    },
  };
  return { fake, calls, failNextCreate: (e: CombinedError) => (createError = e) };
}

const renderTab = (fake: FakeApi, readOnly = false) => renderInProject(<TriggersTab pipelineId={PIPELINE_ID} parameters={PARAMETERS} readOnly={readOnly} />, { api: fake, path: `/p/default/pipelines/${PIPELINE_ID}?tab=triggers` });

const type = (label: string, value: string, scope: HTMLElement = document.body) => fireEvent.change(within(scope).getByLabelText(label), { target: { value } });
function choose(label: string, optionText: string, scope: HTMLElement = document.body) {
  const select = within(scope).getByLabelText(label) as HTMLSelectElement;
  const option = Array.from(select.options).find((o) => o.text === optionText);
  if (!option) throw new Error(`"${label}" has no option "${optionText}" (has ${Array.from(select.options, (o) => o.text).join(', ')})`);
  fireEvent.change(select, { target: { value: option.value } });
}
const value = (label: string, scope: HTMLElement = document.body) => (within(scope).getByLabelText(label) as HTMLInputElement).value;

describe('the Triggers tab', () => {
  it('is a tab of the pipeline page and lists the triggers: type, what they react to, the hook URL, on or off', async () => {
    const { fake } = api([trigger(), CRON]);
    renderInProject(<PipelineEditor />, {
      path: `/p/default/pipelines/${PIPELINE_ID}?tab=triggers`,
      route: '/p/:project/pipelines/:pipelineId',
      api: {
        ...fake,
        queries: {
          ...fake.queries,
          PipelineEditor: () => ({ pipeline: { id: PIPELINE_ID, projectId: PROJECT_ID, name: 'demo', description: null, revision: 1, latestRevision: 1, maxConcurrentRuns: null, updatedAt: '2026-01-01T00:00:00Z', updatedBy: 'dev', parameters: PARAMETERS, stages: [] } satisfies PipelineEditorFieldsFragment }),
          PipelineStageTypes: () => ({ stageTypes: fixture }),
        },
      },
    });
    const tab = await screen.findByRole('tab', { name: 'Triggers' });
    expect(tab.getAttribute('aria-selected')).toBe('true');
    const table = await screen.findByRole('table', { name: 'Triggers' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    const push = within(table).getByRole('row', { name: /push-main/ });
    expect(within(push).getByText('GIT_PUSH')).toBeTruthy();
    await waitFor(() => expect(within(push).getByText(`branches main, release/* of ${resourceName('SOURCE_REPOSITORY')}`)).toBeTruthy());
    expect(within(push).getByText(HOOK)).toBeTruthy();
    expect((within(push).getByRole('switch', { name: 'Enable push-main' }) as HTMLInputElement).checked).toBe(true);
    const cron = within(table).getByRole('row', { name: /nightly/ });
    expect(within(cron).getByText(/^0 0 3 \* \* \* \(Europe\/Berlin\), missed runs FIRE_ONCE/)).toBeTruthy();
    expect(within(cron).queryByRole('button', { name: 'Rotate secret of nightly' })).toBeNull();
    expect(screen.getByRole('navigation', { name: 'Pages' }).textContent).toContain('2 in all');
  });

  it('creates a GIT_PUSH trigger from the form, shows the server problems at their fields, then the hook URL and the secret only once', async () => {
    const { fake, calls, failNextCreate } = api([]);
    renderTab(fake);
    await screen.findByText('No triggers yet');
    fireEvent.click(screen.getByRole('button', { name: 'New trigger' }));
    const form = screen.getByRole('form', { name: 'New trigger' });
    expect((within(form).getByLabelText('Type') as HTMLSelectElement).value).toBe('GIT_PUSH');
    type('Name', 'push-main', form);
    const repo = within(form).getByLabelText('Repository') as HTMLSelectElement;
    await waitFor(() => expect(Array.from(repo.options, (o) => o.text)).toContain(resourceName('SOURCE_REPOSITORY')));
    choose('Repository', resourceName('SOURCE_REPOSITORY'), form);
    expect(value('Branches 1', form)).toBe('*');
    type('Branches 1', 'main', form);
    fireEvent.click(within(form).getByRole('button', { name: 'Add Branches' }));
    type('Branches 2', 'release/(', form);
    fireEvent.click(within(form).getByRole('button', { name: 'Add Paths' }));
    type('Paths 1', 'src/**', form);
    type('Parameter version', '${git.sha}', form);

    failNextCreate(
      badInput([
        { field: 'input.config.branches[1]', message: 'is not a regular expression: Unterminated group' },
        { field: 'input.config.parameters.version', message: '${git.shaa} is not in the event' },
        { field: 'input.pipelineId', message: 'names no pipeline' },
      ]),
    );
    await act(async () => fireEvent.click(within(form).getByRole('button', { name: 'Create trigger' })));
    const branch2 = within(form).getByLabelText('Branches 2');
    expect(branch2.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(branch2.getAttribute('aria-describedby')!)?.textContent).toBe('is not a regular expression: Unterminated group');
    expect(within(form).getByLabelText('Parameter version').getAttribute('aria-invalid')).toBe('true');
    expect(within(form).getByText('${git.shaa} is not in the event')).toBeTruthy();
    expect(within(form).getByText('input.pipelineId: names no pipeline')).toBeTruthy();
    expect(screen.queryByRole('region', { name: 'Hook URL and secret' })).toBeNull();

    type('Branches 2', 'release/*', form);
    await act(async () => fireEvent.click(within(form).getByRole('button', { name: 'Create trigger' })));
    expect(calls.create[1]).toEqual({
      pipelineId: PIPELINE_ID,
      type: 'GIT_PUSH',
      name: 'push-main',
      enabled: true,
      config: { repositoryId: IDS.SOURCE_REPOSITORY, branches: ['main', 'release/*'], paths: ['src/**'], parameters: { version: '${git.sha}' }, artifactName: 'commit' },
    });

    const once = await screen.findByRole('region', { name: 'Hook URL and secret' });
    expect(screen.queryByRole('form', { name: 'New trigger' })).toBeNull();
    expect(value('Hook URL', once)).toBe(HOOK);
    expect(value('Secret', once)).toBe(SECRET);
    expect(within(once).getByText(/This secret is shown only now/)).toBeTruthy();
    expect(within(once).getByRole('button', { name: 'Copy hook URL' })).toBeTruthy();
    expect(within(once).getByRole('button', { name: 'Copy secret' })).toBeTruthy();
    const setup = within(once).getByRole('region', { name: 'Provider setup' });
    expect(setup.textContent).toContain('application/json');
    expect(setup.textContent).toContain('Secret token');
    // The list was read again and has the new trigger.
    await screen.findByRole('row', { name: /push-main/ });

    fireEvent.click(within(once).getByRole('button', { name: 'Done' }));
    expect(screen.queryByRole('region', { name: 'Hook URL and secret' })).toBeNull();
    // Shown that once: nowhere on the page any more, not even in the trigger's details.
    fireEvent.click(screen.getByRole('button', { name: 'Details of push-main' }));
    await screen.findByRole('region', { name: 'Deliveries of push-main' });
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(value('Hook URL')).toBe(HOOK);
  });

  it('creates a CRON trigger: expression, time zone, missed runs with a catch-up limit; no secret to show', async () => {
    const { fake, calls } = api([]);
    renderTab(fake);
    fireEvent.click(await screen.findByRole('button', { name: 'New trigger' }));
    const form = screen.getByRole('form', { name: 'New trigger' });
    choose('Type', 'Schedule (cron) (CRON)', form);
    type('Name', 'every-five-minutes', form);
    type('Expression', '0 */5 * * * *', form);
    expect(value('Time zone', form)).toBe('UTC');
    type('Time zone', 'Europe/Berlin', form);
    expect(within(form).queryByLabelText('Catch-up limit')).toBeNull();
    choose('Missed runs', 'CATCH_UP', form);
    type('Catch-up limit', '3', form);
    fireEvent.click(within(form).getByLabelText('Enabled'));
    await act(async () => fireEvent.click(within(form).getByRole('button', { name: 'Create trigger' })));
    expect(calls.create).toEqual([{ pipelineId: PIPELINE_ID, type: 'CRON', name: 'every-five-minutes', enabled: false, config: { expression: '0 */5 * * * *', timezone: 'Europe/Berlin', missedRuns: 'CATCH_UP', catchUpLimit: 3 } }]);
    await screen.findByRole('row', { name: /every-five-minutes/ });
    expect(screen.queryByRole('region', { name: 'Hook URL and secret' })).toBeNull();
  });

  it('edits a trigger: its name and whole config (not its type) with updateTrigger', async () => {
    const { fake, calls } = api([trigger()]);
    renderTab(fake);
    fireEvent.click(await screen.findByRole('button', { name: 'Edit push-main' }));
    const form = screen.getByRole('form', { name: 'Edit trigger push-main' });
    expect((within(form).getByLabelText('Type') as HTMLSelectElement).disabled).toBe(true);
    expect(value('Branches 2', form)).toBe('release/*');
    fireEvent.click(within(form).getByRole('button', { name: 'Remove Branches 2' }));
    type('Name', 'push-main-only', form);
    await act(async () => fireEvent.click(within(form).getByRole('button', { name: 'Save trigger' })));
    expect(calls.update).toEqual([{ id: 't-push', input: { name: 'push-main-only', config: { repositoryId: IDS.SOURCE_REPOSITORY, branches: ['main'], artifactName: 'commit' } } }]);
    expect(screen.queryByRole('form', { name: 'Edit trigger push-main' })).toBeNull();
    await screen.findByRole('row', { name: /push-main-only/ });
  });

  it('turns a trigger off and on again with updateTrigger(enabled)', async () => {
    const { fake, calls } = api([trigger()]);
    renderTab(fake);
    const toggle = (await screen.findByRole('switch', { name: 'Enable push-main' })) as HTMLInputElement;
    await act(async () => fireEvent.click(toggle));
    expect(calls.update).toEqual([{ id: 't-push', input: { enabled: false } }]);
    await waitFor(() => expect((screen.getByRole('switch', { name: 'Enable push-main' }) as HTMLInputElement).checked).toBe(false));
    await act(async () => fireEvent.click(screen.getByRole('switch', { name: 'Enable push-main' })));
    expect(calls.update[1]).toEqual({ id: 't-push', input: { enabled: true } });
    await waitFor(() => expect((screen.getByRole('switch', { name: 'Enable push-main' }) as HTMLInputElement).checked).toBe(true));
  });

  it("shows a trigger's deliveries newest first with their outcome and run, loads older ones, and redelivers a rejected one", async () => {
    const RUN_ID = '99999999-9999-4999-8999-999999999999';
    const pages: Record<string, Delivery[]> = {
      '': [delivery(3, { outcome: 'REJECTED', reason: 'parameter "version" (${git.shaa}): ${git.shaa} is not in the event', summary: null, canRedeliver: true }), delivery(2, { runId: RUN_ID, run: { id: RUN_ID, number: 7, status: 'SUCCEEDED' } })],
      c2: [delivery(1, { event: 'ping', outcome: 'IGNORED', reason: 'a ping (the provider checking the hook): nothing to start', summary: null })],
    };
    let redelivered = false;
    const { fake, calls } = api([trigger()], {
      queries: {
        PipelineTriggerDeliveries: (v) => {
          calls.deliveries.push(v);
          const after = (v.after as string | null) ?? '';
          const nodes = after === '' && redelivered ? [delivery(4, { outcome: 'PENDING', summary: null, redeliveryOf: 'd3' }), ...pages['']] : pages[after];
          return { trigger: { id: 't-push', deliveries: { ...connection(nodes, after === '', after === '' ? 'c2' : null), totalCount: 3 + (redelivered ? 1 : 0) } } };
        },
      },
      mutations: {
        PipelineTriggerRedeliver: (v) => {
          calls.redeliver.push(v.id as string);
          redelivered = true;
          return { data: { redeliverTriggerDelivery: { id: 'd4', outcome: 'PENDING', redeliveryOf: v.id } } };
        },
      },
    });
    renderTab(fake);
    fireEvent.click(await screen.findByRole('button', { name: 'Details of push-main' }));
    const region = await screen.findByRole('region', { name: 'Deliveries of push-main' });
    await waitFor(() => expect(within(region).getAllByRole('row')).toHaveLength(3));
    const [rejected, started] = within(region).getAllByRole('row').slice(1);
    expect(within(rejected).getByText('REJECTED')).toBeTruthy();
    expect(within(rejected).getByText(/is not in the event/)).toBeTruthy();
    expect(within(rejected).getByText('gh-3')).toBeTruthy();
    expect(within(started).getByText('push to main by alice: abc122')).toBeTruthy();
    expect(within(started).getByRole('link', { name: 'Run #7 (SUCCEEDED)' }).getAttribute('href')).toBe(`/p/default/runs/${RUN_ID}`);
    expect(within(started).queryByRole('button', { name: /Redeliver/ })).toBeNull();
    expect(within(region).getByText('3 in all, newest first')).toBeTruthy();

    fireEvent.click(within(region).getByRole('button', { name: 'Load older deliveries' }));
    await waitFor(() => expect(within(region).getAllByRole('row')).toHaveLength(4));
    expect(calls.deliveries.at(-1)).toEqual({ id: 't-push', first: 20, after: 'c2' });
    expect(within(region).getByText('ping')).toBeTruthy();
    expect(within(region).queryByRole('button', { name: 'Load older deliveries' })).toBeNull();

    const before = calls.deliveries.length;
    await act(async () => fireEvent.click(within(region).getByRole('button', { name: 'Redeliver gh-3' })));
    expect(calls.redeliver).toEqual(['d3']);
    await waitFor(() => expect(calls.deliveries.length).toBeGreaterThan(before));
    expect(calls.deliveries.at(-1)).toEqual({ id: 't-push', first: 20, after: null });
    await waitFor(() => expect(within(region).getAllByRole('row')[1].textContent).toContain('PENDING'));
    expect(within(region).getByText('a redelivery')).toBeTruthy();
    expect(within(region).getByRole('status').textContent).toBe('Redelivered as a new delivery (PENDING), at the top of the list.');
  });

  it('rotates the secret after asking (the new one shown once) and deletes a trigger after asking', async () => {
    const { fake, calls } = api([trigger(), CRON]);
    renderTab(fake);
    fireEvent.click(await screen.findByRole('button', { name: 'Rotate secret of push-main' }));
    const ask = screen.getByRole('dialog', { name: 'Rotate the secret of push-main?' });
    await act(async () => fireEvent.click(within(ask).getByRole('button', { name: 'Rotate secret' })));
    expect(calls.rotate).toEqual(['t-push']);
    const once = await screen.findByRole('region', { name: 'Hook URL and secret' });
    expect(value('Secret', once)).toBe('bmV3LXNlY3JldA');
    expect(within(once).getByText(/The old secret stopped working/)).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Delete nightly' }));
    const confirm = screen.getByRole('dialog', { name: 'Delete trigger nightly?' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(calls.remove).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Delete nightly' }));
    await act(async () => fireEvent.click(within(screen.getByRole('dialog', { name: 'Delete trigger nightly?' })).getByRole('button', { name: 'Delete' })));
    expect(calls.remove).toEqual(['t-cron']);
    await waitFor(() => expect(screen.queryByRole('row', { name: /nightly/ })).toBeNull());
  });

  it("opens the trigger named in the URL (a run's link to its trigger), with its hook URL and provider setup", async () => {
    const { fake } = api([trigger(), CRON]);
    renderInProject(<TriggersTab pipelineId={PIPELINE_ID} parameters={PARAMETERS} readOnly={false} />, { api: fake, path: `/p/default/pipelines/${PIPELINE_ID}?tab=triggers&trigger=t-push` });
    const details = await screen.findByRole('button', { name: 'Details of push-main' });
    expect(details.getAttribute('aria-expanded')).toBe('true');
    expect(screen.getByRole('button', { name: 'Details of nightly' }).getAttribute('aria-expanded')).toBe('false');
    expect(screen.getByRole('region', { name: 'Deliveries of push-main' })).toBeTruthy();
    expect(value('Hook URL')).toBe(HOOK);
    expect(screen.getByRole('region', { name: 'Provider setup' }).textContent).toContain('the secret shown when the trigger was created');
    fireEvent.click(details);
    expect(screen.queryByRole('region', { name: 'Deliveries of push-main' })).toBeNull();
  });

  it('is read-only for viewers: no New trigger, no switches to flip, no row actions but Details', async () => {
    const { fake } = api([trigger()]);
    renderTab(fake, true);
    const toggle = (await screen.findByRole('switch', { name: 'Enable push-main' })) as HTMLInputElement;
    expect(toggle.disabled).toBe(true);
    expect(screen.queryByRole('button', { name: 'New trigger' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit push-main' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete push-main' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Details of push-main' })).toBeTruthy();
  });
});
