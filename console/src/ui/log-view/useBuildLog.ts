import { useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { graphql } from '../../gql';
import { useLinkGeneration } from '../../graphql/GraphQLProvider';
import { errorMessage } from '../states';
import { LineStore } from './lineStore';
import { LogCursor } from './logCursor';

export const BuildLogSubscription = graphql(`
  subscription BuildLogStream($buildId: ID!, $fromOffset: Int) {
    buildLog(buildId: $buildId, fromOffset: $fromOffset) {
      lines {
        offset
        text
      }
      nextOffset
      complete
    }
  }
`);

/** Where a log stream is: waiting for its first page, receiving, at its end, or failed (with why). */
export type LogPhase = { phase: 'connecting' } | { phase: 'streaming' } | { phase: 'complete' } | { phase: 'error'; message: string };

/**
 * A build's log from the `buildLog` subscription into a LineStore: the lines stored so far, then
 * each one as it is written. When the WebSocket comes back after a loss (useLinkGeneration) it
 * subscribes again from the next offset, and the cursor drops any line seen already (graphql-ws
 * may also have retried the old subscription from its first offset).
 */
export function useBuildLog(buildId: string, callbacks: { onComplete?: () => void; onFirstLines?: () => void } = {}): { store: LineStore; state: LogPhase } {
  const client = useClient();
  const generation = useLinkGeneration();
  const log = useRef<{ buildId: string; store: LineStore; cursor: LogCursor } | null>(null);
  if (!log.current || log.current.buildId !== buildId) {
    log.current?.store.dispose();
    log.current = { buildId, store: new LineStore(), cursor: new LogCursor() };
  }
  const { store, cursor } = log.current;
  const [state, setState] = useState<LogPhase>({ phase: 'connecting' });
  const on = useRef(callbacks);
  on.current = callbacks;

  useEffect(() => {
    if (cursor.complete) return;
    setState((s) => (s.phase === 'error' ? { phase: 'connecting' } : s));
    const sub = client.subscription(BuildLogSubscription, { buildId, fromOffset: cursor.next }).subscribe((result) => {
      if (result.error) {
        store.flush();
        // A closed socket arrives as a CloseEvent (no message): say what it means.
        const network = result.error.networkError as { message?: string } | undefined;
        const message = network && !network.message ? 'the connection to the gateway closed; the log resumes when it is back' : errorMessage(result.error);
        setState({ phase: 'error', message });
        return;
      }
      const page = result.data?.buildLog;
      if (!page) return;
      const hadLines = store.receivedLength > 0;
      store.append(cursor.accept(page));
      if (!hadLines && store.receivedLength > 0) on.current.onFirstLines?.();
      if (cursor.complete) {
        store.flush();
        setState({ phase: 'complete' });
        on.current.onComplete?.();
      } else setState((s) => (s.phase === 'streaming' ? s : { phase: 'streaming' }));
    });
    return () => sub.unsubscribe();
  }, [client, buildId, generation, store, cursor]);

  useEffect(() => () => store.dispose(), [store]);
  return { store, state };
}
