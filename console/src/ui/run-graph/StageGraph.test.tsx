import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StageGraph } from './StageGraph';
import { setLayoutEngine } from './layout';
import type { GraphStage, GraphStageState } from './types';

const stages: GraphStage[] = [
  { refId: 'src', name: 'Source', type: 'SOURCE_GITHUB', dependsOn: [] },
  { refId: 'build', name: 'Build', type: 'BUILD_HOSTED', dependsOn: ['src'] },
  { refId: 'ship', name: 'Ship', type: 'WEBHOOK', dependsOn: ['build'] },
];
const states = (entries: [string, GraphStageState][]) => new Map(entries);

afterEach(cleanup);

describe('StageGraph', () => {
  it('draws every stage at once, lays out with ELK once, and only re-renders statuses on updates', async () => {
    const { default: ElkBundled } = await import('elkjs/lib/elk.bundled.js');
    const elk = new ElkBundled();
    let answer: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    const layout = vi.spyOn(elk, 'layout');
    setLayoutEngine(async () => {
      await gate;
      return elk;
    });
    const onOpen = vi.fn();
    const view = render(
      <div style={{ width: 1000, height: 600 }}>
        <StageGraph stages={stages} states={states([['src', { status: 'RUNNING', attempt: 1 }]])} onOpen={onOpen} />
      </div>,
    );
    // Before ELK has answered: every stage is there, named "<name>: <STATUS>", usable.
    const group = screen.getByRole('group', { name: 'Stage graph' });
    expect(group.getAttribute('aria-busy')).toBe('true');
    expect(screen.getByRole('button', { name: 'Source: RUNNING' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Build: NOT_STARTED' })).toBeTruthy();
    fireEvent.keyDown(screen.getByRole('button', { name: 'Ship: NOT_STARTED' }), { key: 'Enter' });
    expect(onOpen).toHaveBeenCalledWith('ship');

    await act(async () => answer());
    await waitFor(() => expect(group.getAttribute('aria-busy')).toBe('false'));
    expect(layout).toHaveBeenCalledTimes(1);

    view.rerender(
      <div style={{ width: 1000, height: 600 }}>
        <StageGraph stages={stages.map((s) => ({ ...s }))} states={states([['src', { status: 'SUCCEEDED', attempt: 1 }], ['build', { status: 'RUNNING', attempt: 1 }]])} onOpen={onOpen} />
      </div>,
    );
    expect(screen.getByRole('button', { name: 'Source: SUCCEEDED' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Build: RUNNING' })).toBeTruthy();
    expect(layout).toHaveBeenCalledTimes(1);
  });

  it('keeps the provisional layout when ELK fails, and says so', async () => {
    localStorage.clear();
    setLayoutEngine(async () => {
      throw new Error('no engine');
    });
    render(
      <div style={{ width: 1000, height: 600 }}>
        <StageGraph stages={stages} states={new Map()} ariaLabel="Stages of run #3" />
      </div>,
    );
    expect((await screen.findByRole('alert')).textContent).toContain('no engine');
    expect(screen.getAllByRole('button', { name: /: NOT_STARTED$/ })).toHaveLength(3);
    expect(screen.getByRole('group', { name: 'Stages of run #3' })).toBeTruthy();
  });
});
