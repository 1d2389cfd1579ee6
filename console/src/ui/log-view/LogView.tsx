import { useLinkState } from '../../graphql/GraphQLProvider';
import { LogViewer } from './LogViewer';
import { useBuildLog } from './useBuildLog';

export interface LogViewProps {
  buildId: string;
  /** The build is still running (or queued): follow the end from the start. */
  running: boolean;
  /** Name of the downloaded file; default `build-<id>.log`. */
  fileName?: string;
  /** Called once when the last line has arrived (the build finished): e.g. to reload the build's status. */
  onComplete?: () => void;
  /** Called once when the first lines arrive (a queued build has started). */
  onFirstLines?: () => void;
  label?: string;
}

/**
 * A build's log, live: subscribes to `buildLog` and shows the lines as they arrive (see
 * LogViewer), resuming after a lost connection without missing or repeating a line.
 * Give it `key={buildId}` when the build can change under it.
 */
export function LogView({ buildId, running, fileName, onComplete, onFirstLines, label }: LogViewProps) {
  const { store, state } = useBuildLog(buildId, { onComplete, onFirstLines });
  const link = useLinkState();
  const note = link === 'reconnecting' && state.phase !== 'complete' ? 'connection lost, reconnecting…' : undefined;
  return <LogViewer store={store} state={state} defaultFollow={running} fileName={fileName ?? `build-${buildId}.log`} note={note} label={label} />;
}
