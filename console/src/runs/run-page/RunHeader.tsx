import { useCallback, useState } from 'react';
import { Link } from 'react-router';
import { useMutation } from 'urql';
import { useProject } from '../../projects/ProjectContext';
import { durationBetween, useNow } from '../../ui/run-graph';
import { MutationError } from '../../ui/states';
import { ConfirmDialog } from '../ConfirmDialog';
import { RunTrigger } from '../RunTrigger';
import { ACTIVE_RUN_STATUSES, editorUrl, formatTime, runUrl, runsUrl } from '../format';
import type { RunFields } from './model';
import { RunPageCancelRun } from './queries';

function CancelRunButton({ run }: { run: RunFields }) {
  const project = useProject();
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [result, cancel] = useMutation(RunPageCancelRun);
  const close = useCallback(() => setAsking(false), []);
  if (!ACTIVE_RUN_STATUSES.includes(run.status)) return null;
  const confirm = async () => {
    const r = await cancel({ runId: run.id, reason: reason.trim() || undefined });
    if (!r.error) setAsking(false);
  };
  return (
    <span className="runs-cancel">
      <button
        type="button"
        className="danger"
        disabled={!project.canWrite || result.fetching}
        title={project.canWrite ? undefined : 'Cancelling a run needs DEVELOPER or ADMIN in this project'}
        onClick={() => setAsking(true)}
      >
        Cancel run
      </button>
      {!asking && <MutationError error={result.error} />}
      {asking && (
        <ConfirmDialog title={`Cancel run #${run.number} of ${run.pipelineName}?`} onConfirm={confirm} onClose={close} busy={result.fetching}>
          <p>Its running stages are stopped and its child runs cancelled.</p>
          <div className="field">
            <label htmlFor="cancel-run-reason">Reason</label>
            <input id="cancel-run-reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="optional" />
          </div>
          <MutationError error={result.error} />
        </ConfirmDialog>
      )}
    </span>
  );
}

function Parameters({ parameters }: { parameters: unknown }) {
  const entries = Object.entries((parameters ?? {}) as Record<string, unknown>);
  if (!entries.length) return <span className="muted">none</span>;
  return (
    <ul className="runs-params">
      {entries.map(([k, v]) => (
        <li key={k}>
          <span className="mono">{k}</span> = <span className="mono runs-param-value">{typeof v === 'string' ? v : JSON.stringify(v)}</span>
        </li>
      ))}
    </ul>
  );
}

/** Pipeline (link to its editor), run number, status, times, who started it, parameters; "Cancel run". */
export function RunHeader({ run }: { run: RunFields }) {
  const project = useProject();
  const active = ACTIVE_RUN_STATUSES.includes(run.status);
  const now = useNow(active && !!run.startedAt && !run.finishedAt);
  const duration = durationBetween(run.startedAt, run.finishedAt, now || Date.now());
  return (
    <>
      <div className="breadcrumbs runs-breadcrumbs">
        <Link to={runsUrl(project.slug, run.pipelineId)}>Runs of {run.pipelineName}</Link>
        {run.parentRunId && (
          <>
            {' · '}
            <Link to={runUrl(project.slug, run.parentRunId)}>parent run</Link>
          </>
        )}
      </div>
      <div className="page-header">
        <h1>
          <Link to={editorUrl(project.slug, run.pipelineId)}>{run.pipelineName}</Link> <span className="runs-number">#{run.number}</span>
        </h1>
        <span className={`status status-${run.status}`} role="status" aria-label={`Run status: ${run.status}`}>
          {run.status}
        </span>
        <span className="spacer" />
        <CancelRunButton run={run} />
      </div>
      <dl className="panel runs-facts runs-header-facts">
        <div>
          <dt>Started</dt>
          <dd>{run.startedAt ? <time dateTime={run.startedAt}>{formatTime(run.startedAt)}</time> : <span className="muted">not yet (queued {formatTime(run.createdAt)})</span>}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{run.finishedAt ? <time dateTime={run.finishedAt}>{formatTime(run.finishedAt)}</time> : <span className="muted">—</span>}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{duration || <span className="muted">—</span>}</dd>
        </div>
        <div>
          <dt>Created by</dt>
          <dd>{run.createdBy}</dd>
        </div>
        <div>
          <dt>Revision</dt>
          <dd>{run.revision}</dd>
        </div>
        <div className="runs-facts-wide">
          <dt>Parameters</dt>
          <dd>
            <Parameters parameters={run.parameters} />
          </dd>
        </div>
        {run.trigger && (
          <div className="runs-facts-full">
            <dt>Trigger</dt>
            <dd>
              <RunTrigger trigger={run.trigger} slug={project.slug} pipelineId={run.pipelineId} />
            </dd>
          </div>
        )}
        {run.reason && (
          <div className="runs-facts-full">
            <dt>Reason</dt>
            <dd>{run.reason}</dd>
          </div>
        )}
      </dl>
    </>
  );
}
