import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { renderInProject } from '../pipelines/test/harness';
import type { RunFields } from './run-page/model';
import { RunHeader } from './run-page/RunHeader';
import type { RunRow } from './runs-list/liveRows';
import { RunsListPage } from './runs-list/RunsListPage';

afterEach(cleanup);

const TRIGGER = { type: 'GIT_PUSH' as const, triggerId: 't-push', deliveryId: 'd-1', summary: 'push to main by alice: abc1234 Fix the build' };
const row = (n: number, over: Partial<RunRow> = {}): RunRow => ({
  id: `r${n}`,
  number: n,
  status: 'SUCCEEDED',
  pipelineId: 'p1',
  pipelineName: 'deploy',
  revision: 1,
  sequence: 3,
  createdAt: '2026-01-01T10:00:00Z',
  createdBy: 'alice',
  startedAt: '2026-01-01T10:00:01Z',
  finishedAt: '2026-01-01T10:01:00Z',
  trigger: null,
  ...over,
});

describe('the trigger of a run', () => {
  it('is shown in the runs list for runs a trigger started', async () => {
    renderInProject(<RunsListPage />, {
      path: '/p/default/runs',
      api: { queries: { RunsList: () => ({ runs: { totalCount: 2, pageInfo: { hasNextPage: false, endCursor: null }, edges: [{ node: row(2, { trigger: TRIGGER, createdBy: 'trigger:push-main' }) }, { node: row(1) }] } }) } },
    });
    const byTrigger = await screen.findByRole('row', { name: /#2/ });
    expect(within(byTrigger).getByRole('cell', { name: 'GIT_PUSH: push to main by alice: abc1234 Fix the build' })).toBeTruthy();
    const byHand = screen.getByRole('row', { name: /#1/ });
    expect(within(byHand).queryByText(/GIT_PUSH/)).toBeNull();
    expect(screen.getByRole('columnheader', { name: 'Trigger' })).toBeTruthy();
  });

  it("is shown in the run page's header, with a link to the trigger's deliveries", async () => {
    const run = { ...row(2, { trigger: TRIGGER }), projectId: 'x', parameters: {}, artifacts: {}, reason: null, parentRunId: null, stages: [] } as RunFields;
    renderInProject(<RunHeader run={run} />, { path: '/p/default/runs/r2' });
    const summary = await screen.findByText('GIT_PUSH: push to main by alice: abc1234 Fix the build');
    expect(summary.closest('div')?.querySelector('dt')?.textContent).toBe('Trigger');
    expect(screen.getByRole('link', { name: 'View trigger' }).getAttribute('href')).toBe('/p/default/pipelines/p1?tab=triggers&trigger=t-push');
  });

  it('is not shown for a run a person started', async () => {
    const run = { ...row(1), projectId: 'x', parameters: {}, artifacts: {}, reason: null, parentRunId: null, stages: [] } as RunFields;
    renderInProject(<RunHeader run={run} />, { path: '/p/default/runs/r1' });
    await screen.findByText('Created by');
    expect(screen.queryByText('Trigger')).toBeNull();
  });
});
