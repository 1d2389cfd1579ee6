import type { CombinedError } from 'urql';
import { errorMessage } from '../ui/states';
import { probeFacts } from './form-model';
import type { ProbeData } from './kinds';

export interface ProbeState {
  running: boolean;
  result?: ProbeData['probe'];
  error?: CombinedError;
}

const MAX_ITEMS = 30;

/** What "Test connection" found (or what failed), in a live status region. */
export function ProbeStatus({ name, state, onDismiss }: { name: string; state: ProbeState; onDismiss: () => void }) {
  const { running, result, error } = state;
  const ok = !running && !error && result?.ok;
  const cls = running ? 'probe probe-running' : ok ? 'probe probe-ok' : 'probe probe-failed';
  return (
    <div className={cls} role="status" aria-live="polite" aria-label={`Connection test of ${name}`}>
      <div className="probe-head">
        {running ? (
          <span>
            <span className="spinner" aria-hidden /> Testing the connection of {name}…
          </span>
        ) : error ? (
          <span>
            <strong>Could not test:</strong> {errorMessage(error)}
          </span>
        ) : result ? (
          <span>
            <span className={`status ${result.ok ? 'status-SUCCEEDED' : 'status-FAILED'}`}>{result.ok ? 'Connected' : 'Failed'}</span>{' '}
            {result.message} <span className="muted">({result.latencyMs} ms)</span>
          </span>
        ) : null}
        <span className="spacer" />
        {!running && (
          <button type="button" className="link" onClick={onDismiss} aria-label={`Dismiss the test result of ${name}`}>
            Dismiss
          </button>
        )}
      </div>
      {result && !running && (
        <dl className="probe-facts">
          {probeFacts(result.details).map((f) => (
            <div key={f.label}>
              <dt>{f.label}</dt>
              <dd>
                {Array.isArray(f.value) ? (
                  f.value.length ? (
                    <span className="chips">
                      {f.value.slice(0, MAX_ITEMS).map((v) => (
                        <code key={v}>{v}</code>
                      ))}
                      {f.value.length > MAX_ITEMS && <span className="muted">and {f.value.length - MAX_ITEMS} more</span>}
                    </span>
                  ) : (
                    <span className="muted">none</span>
                  )
                ) : (
                  f.value
                )}
              </dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}
