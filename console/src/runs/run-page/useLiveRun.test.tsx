import { act, renderHook } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { linkStatus } from '../../graphql/GraphQLProvider';
import type { RunFields } from './model';

interface Sub {
  vars: { runId: string; afterSequence?: number };
  push: (data: { runUpdated: RunFields }) => void;
  closed: boolean;
}
const subs: Sub[] = [];
let queryRun: RunFields | null = null;

const client = {
  subscription: (_q: unknown, vars: Sub['vars']) => ({
    subscribe: (cb: (r: { data?: { runUpdated: RunFields } }) => void) => {
      const sub: Sub = { vars, push: (data) => cb({ data }), closed: false };
      subs.push(sub);
      return { unsubscribe: () => (sub.closed = true) };
    },
  }),
};
vi.mock('urql', () => ({
  useQuery: () => [{ data: queryRun ? { run: queryRun } : undefined, fetching: !queryRun, error: undefined }],
  useClient: () => client,
}));

const { useLiveRun } = await import('./useLiveRun');

const run = (sequence: number, status = 'RUNNING') => ({ id: 'r1', sequence, status, stages: [] }) as unknown as RunFields;

describe('useLiveRun', () => {
  beforeEach(() => {
    subs.length = 0;
    queryRun = run(5);
    linkStatus.set('connected');
  });

  it('shows the newest sequence, ignores older deliveries, resumes after a reconnect', () => {
    const { result } = renderHook(() => useLiveRun('r1'));
    expect(result.current.run?.sequence).toBe(5);
    expect(subs).toHaveLength(1);

    act(() => subs[0].push({ runUpdated: run(7, 'WAITING') }));
    expect(result.current.run?.status).toBe('WAITING');
    act(() => subs[0].push({ runUpdated: run(6, 'RUNNING') }));
    expect(result.current.run?.sequence).toBe(7);

    // The WebSocket drops and comes back: a new subscription from the sequence shown.
    act(() => {
      linkStatus.set('reconnecting');
      linkStatus.set('connected');
    });
    expect(subs).toHaveLength(2);
    expect(subs[0].closed).toBe(true);
    expect(subs[1].vars).toEqual({ runId: 'r1', afterSequence: 7 });
    act(() => subs[1].push({ runUpdated: run(7, 'RUNNING') }));
    expect(result.current.run?.status).toBe('WAITING');
    act(() => subs[1].push({ runUpdated: run(9, 'SUCCEEDED') }));
    expect(result.current.run?.status).toBe('SUCCEEDED');
  });
});
