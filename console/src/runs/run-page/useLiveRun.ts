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

  useEffect(() => {
    const r = data?.run;
    if (r && r.id === runId && gate.current.accept(r.sequence)) setRun(r);
  }, [data, runId]);

  useEffect(() => {
    const afterSequence = gate.current.last ?? undefined;
    const sub = client.subscription(RunPageRunUpdated, { runId, afterSequence }).subscribe((result) => {
      if (result.error) return setLiveError(result.error);
      setLiveError(null);
      const r = result.data?.runUpdated;
      if (r && r.id === runId && gate.current.accept(r.sequence)) setRun(r);
    });
    return () => sub.unsubscribe();
  }, [client, runId, generation]);

  return { run, fetching: fetching && !run, error: run ? undefined : error, missing: !fetching && !error && data !== undefined && data.run === null && !run, liveError };
}
