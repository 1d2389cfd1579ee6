import { useEffect, useRef, useState } from 'react';
import { useClient, useQuery, type CombinedError } from 'urql';
import { useLinkGeneration } from '../../graphql/GraphQLProvider';
import { SequenceGate, type RunFields } from './model';
import { RunPageRunQuery, RunPageRunUpdated } from './queries';

/**
 * A run, live: the query answers first, then `runUpdated` delivers every change. The highest
 * sequence seen is kept; when the WebSocket comes back (useLinkGeneration) the subscription starts
 * again with afterSequence = that sequence, so the gateway replays what was missed. Anything at or
 * below the sequence shown is ignored. No polling.
 */
export function useLiveRun(runId: string) {
  const client = useClient();
  const generation = useLinkGeneration();
  const [{ data, fetching, error }] = useQuery({ query: RunPageRunQuery, variables: { id: runId } });
  const [run, setRun] = useState<RunFields | null>(null);
  const [liveError, setLiveError] = useState<CombinedError | null>(null);
  const gate = useRef(new SequenceGate());
  // The gateway ends a subscription when it cannot read a state (the executions service restarting):
  // subscribe again, with afterSequence, after a growing pause.
  const [resubscribe, setResubscribe] = useState(0);
  const failures = useRef(0);

  useEffect(() => {
    const r = data?.run;
    if (r && r.id === runId && gate.current.accept(r.sequence)) setRun(r);
  }, [data, runId]);

  useEffect(() => {
    const afterSequence = gate.current.last ?? undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const sub = client.subscription(RunPageRunUpdated, { runId, afterSequence }).subscribe((result) => {
      if (result.error) {
        setLiveError(result.error);
        const refused = result.error.graphQLErrors.some((e) => ['NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED'].includes(String(e.extensions?.code)));
        if (!refused && retry === undefined) retry = setTimeout(() => setResubscribe((n) => n + 1), Math.min(30_000, 1000 * 2 ** Math.min(failures.current++, 5)));
        return;
      }
      setLiveError(null);
      failures.current = 0; // delivering again: the next error starts the backoff afresh
      const r = result.data?.runUpdated;
      if (r && r.id === runId && gate.current.accept(r.sequence)) setRun(r);
    });
    return () => {
      clearTimeout(retry);
      sub.unsubscribe();
    };
    // `resubscribe` starts it again after an error (the backoff is counted in a ref).
  }, [client, runId, generation, resubscribe]);

  return { run, fetching: fetching && !run, error: run ? undefined : error, missing: !fetching && !error && data !== undefined && data.run === null && !run, liveError };
}
