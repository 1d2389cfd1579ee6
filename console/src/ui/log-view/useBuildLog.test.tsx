import { act, cleanup, render } from '@testing-library/react';
import { Provider, type Client } from 'urql';
import { afterEach, describe, expect, it } from 'vitest';
import { linkStatus } from '../../graphql/GraphQLProvider';
import { useBuildLog, type LogPhase } from './useBuildLog';
import type { LineStore } from './lineStore';

afterEach(cleanup);

type Result = { data?: { buildLog: { lines: { offset: number; text: string }[]; nextOffset: number; complete: boolean } }; error?: Error };

/** A urql client whose subscriptions the test feeds by hand. */
function fakeClient() {
  const subs: { variables: { buildId: string; fromOffset: number }; push: (r: Result) => void; closed: boolean }[] = [];
  const client = {
    subscription: (_doc: unknown, variables: { buildId: string; fromOffset: number }) => ({
      subscribe: (cb: (r: Result) => void) => {
        const sub = { variables, push: cb, closed: false };
        subs.push(sub);
        return { unsubscribe: () => void (sub.closed = true) };
      },
    }),
  };
  return { client: client as unknown as Client, subs };
}

const page = (from: number, count: number, complete = false): Result => ({
  data: { buildLog: { lines: Array.from({ length: count }, (_, i) => ({ offset: from + i, text: `line ${from + i}` })), nextOffset: from + count, complete } },
});

function Probe({ out, onComplete }: { out: { store?: LineStore; state?: LogPhase }; onComplete?: () => void }) {
  const { store, state } = useBuildLog('b1', { onComplete });
  out.store = store;
  out.state = state;
  return null;
}

/** The WebSocket drops and comes back: the generation goes up. */
function reconnect() {
  act(() => {
    linkStatus.set('connected');
    linkStatus.set('reconnecting');
    linkStatus.set('connected');
  });
}

describe('useBuildLog', () => {
  it('appends pages, resubscribes from the next offset when the socket comes back, and drops repeats', () => {
    const { client, subs } = fakeClient();
    const out: { store?: LineStore; state?: LogPhase } = {};
    render(
      <Provider value={client}>
        <Probe out={out} />
      </Provider>,
    );
    expect(subs.at(-1)!.variables).toEqual({ buildId: 'b1', fromOffset: 0 });
    expect(out.state).toEqual({ phase: 'connecting' });
    act(() => subs.at(-1)!.push(page(0, 3)));
    expect(out.state).toEqual({ phase: 'streaming' });
    expect(out.store!.receivedLength).toBe(3);

    const before = subs.length;
    reconnect();
    expect(subs.length).toBe(before + 1);
    expect(subs[before - 1].closed).toBe(true);
    expect(subs.at(-1)!.variables).toEqual({ buildId: 'b1', fromOffset: 3 });
    // the old subscription retried from 0 by graphql-ws, and the new one from 3: nothing twice
    act(() => subs[before - 1].push(page(0, 4)));
    act(() => subs.at(-1)!.push(page(3, 2)));
    act(() => out.store!.flush());
    expect(Array.from({ length: out.store!.length }, (_, i) => out.store!.line(i))).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });

  it('says complete once, calls onComplete, and does not resubscribe a complete log', () => {
    const { client, subs } = fakeClient();
    const out: { store?: LineStore; state?: LogPhase } = {};
    let completed = 0;
    render(
      <Provider value={client}>
        <Probe out={out} onComplete={() => completed++} />
      </Provider>,
    );
    act(() => subs.at(-1)!.push(page(0, 2, true)));
    expect(out.state).toEqual({ phase: 'complete' });
    expect(out.store!.length).toBe(2); // flushed at once
    expect(completed).toBe(1);
    const count = subs.length;
    reconnect();
    expect(subs.length).toBe(count);
  });

  it('shows the subscription error and tries again when the socket comes back', () => {
    const { client, subs } = fakeClient();
    const out: { store?: LineStore; state?: LogPhase } = {};
    render(
      <Provider value={client}>
        <Probe out={out} />
      </Provider>,
    );
    act(() => subs.at(-1)!.push({ error: new Error('[GraphQL] no build with id "b1"') }));
    expect(out.state).toEqual({ phase: 'error', message: 'no build with id "b1"' });
    reconnect();
    expect(out.state).toEqual({ phase: 'connecting' });
    expect(subs.at(-1)!.variables.fromOffset).toBe(0);
  });
});
