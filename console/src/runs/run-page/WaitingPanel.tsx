import { DecisionControls } from './DecisionControls';
import { isDecisionStage, type RunFields } from './model';

/**
 * "Waiting for a decision": every judgement and approval the run waits on, with its buttons, above the
 * graph (no need to open the drawer). The stage open in the drawer shows its buttons there only,
 * so each button exists once on the page.
 */
export function WaitingPanel({ run, openRefId, onOpen }: { run: RunFields; openRefId: string | null; onOpen: (refId: string) => void }) {
  const waiting = run.stages.filter(isDecisionStage);
  if (!waiting.length) return null;
  return (
    <section className="panel runs-waiting" aria-labelledby="runs-waiting-h">
      <h2 id="runs-waiting-h">Waiting for a decision</h2>
      {waiting.map((s) => (
        <div key={s.refId} className="runs-waiting-item">
          <h3>
            {s.name} <span className="muted small">{s.type === 'JUDGEMENT' ? 'judgement' : 'approval'}</span>{' '}
            <button type="button" className="link" onClick={() => onOpen(s.refId)} aria-label={`Details of ${s.name}`}>
              details
            </button>
          </h3>
          {openRefId === s.refId ? <p className="muted">Decide in the stage details on the right.</p> : <DecisionControls runId={run.id} stage={s} idPrefix="waiting" />}
        </div>
      ))}
    </section>
  );
}
