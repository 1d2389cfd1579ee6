import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LineStore, type FrameScheduler } from './lineStore';
import { LogViewer } from './LogViewer';

afterEach(cleanup);

// happy-dom lays nothing out: give elements a size so the virtualizer (clientHeight) draws rows.
const sizes = { clientHeight: 400, clientWidth: 800 };
const real = Object.fromEntries(Object.keys(sizes).map((k) => [k, Object.getOwnPropertyDescriptor(Element.prototype, k)]));
beforeAll(() => {
  for (const [k, v] of Object.entries(sizes)) Object.defineProperty(HTMLElement.prototype, k, { configurable: true, get: () => v });
});
afterAll(() => {
  for (const k of Object.keys(sizes)) {
    delete (HTMLElement.prototype as unknown as Record<string, unknown>)[k];
    if (real[k]) Object.defineProperty(Element.prototype, k, real[k]!);
  }
});

const now: FrameScheduler = (cb) => {
  queueMicrotask(cb);
  return () => undefined;
};

function storeWith(lines: string[]) {
  const store = new LineStore(now);
  store.append(lines);
  store.flush();
  return store;
}

describe('LogViewer', () => {
  it('shows lines with numbers in a log, and its status', () => {
    const store = storeWith(['first \u001b[31mred\u001b[0m', 'second']);
    render(<LogViewer store={store} state={{ phase: 'complete' }} defaultFollow={false} fileName="x.log" />);
    const log = screen.getByRole('log', { name: 'Build log' });
    const lines = [...log.querySelectorAll('.log-line')].map((l) => l.textContent);
    expect(lines.slice(0, 2)).toEqual(['first red', 'second']);
    expect(log.querySelector('.ansi-red-fg')?.textContent).toBe('red');
    expect(screen.getByRole('status').textContent).toBe('complete');
    expect(screen.getByRole('button', { name: 'Follow' }).getAttribute('aria-pressed')).toBe('false');
  });

  it('searches, counts and highlights matches', async () => {
    const store = storeWith(['an error', 'fine', 'ERROR again']);
    render(<LogViewer store={store} state={{ phase: 'streaming' }} defaultFollow fileName="x.log" />);
    expect(screen.getByRole('status').textContent).toBe('streaming…');
    expect(screen.getByRole('button', { name: 'Follow' }).getAttribute('aria-pressed')).toBe('true');
    await act(async () => {
      fireEvent.change(screen.getByRole('searchbox', { name: 'Search log' }), { target: { value: 'error' } });
    });
    expect(screen.getByText('1 of 2')).toBeTruthy();
    // jumping to a match stops following
    expect(screen.getByRole('button', { name: 'Follow' }).getAttribute('aria-pressed')).toBe('false');
    expect(document.querySelectorAll('mark.log-match')).toHaveLength(2);
    expect(document.querySelector('mark.log-match-current')?.textContent).toBe('error');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Next match' }));
    });
    expect(screen.getByText('2 of 2')).toBeTruthy();
    expect(document.querySelector('mark.log-match-current')?.textContent).toBe('ERROR');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Next match' }));
    });
    expect(screen.getByText('1 of 2')).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Previous match' }));
    });
    expect(screen.getByText('2 of 2')).toBeTruthy();
  });

  it('shows lines appended later, and follow toggles', async () => {
    const store = new LineStore(now);
    render(<LogViewer store={store} state={{ phase: 'connecting' }} defaultFollow fileName="x.log" />);
    expect(screen.getByText('Waiting for the log…')).toBeTruthy();
    await act(async () => {
      store.append(['one', 'two']);
      await Promise.resolve();
    });
    expect([...document.querySelectorAll('.log-line')].map((l) => l.textContent)).toEqual(['one', 'two']);
    const follow = screen.getByRole('button', { name: 'Follow' });
    fireEvent.click(follow);
    expect(follow.getAttribute('aria-pressed')).toBe('false');
    fireEvent.click(follow);
    expect(follow.getAttribute('aria-pressed')).toBe('true');
  });

  it('shows a subscription error as the status', () => {
    render(<LogViewer store={new LineStore(now)} state={{ phase: 'error', message: 'no build with id "x"' }} defaultFollow={false} fileName="x.log" />);
    expect(screen.getByRole('status').textContent).toBe('no build with id "x"');
  });
});
