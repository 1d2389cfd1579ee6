import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { useProject } from '../../projects/ProjectContext';
import { durationBetween, useNow } from '../../ui/run-graph';
import { MutationError, errorMessage } from '../../ui/states';
import { BUILD_STAGE_TYPES, TERMINAL_STAGE_STATUSES, buildUrl, editorUrl, formatTime, pretty, stageBuildsUrl } from '../format';
import { ConfirmDialog } from '../ConfirmDialog';
import { DecisionControls } from './DecisionControls';
import type { RevisionStage, RunFields, StageRunFields } from './model';
import { outputLinks } from './outputs';
import { RunPageRestartStage, RunPageStageBuilds } from './queries';

function Fact({ label, children }: { label: string; children: ReactNode }) {
  if (children === null || children === undefined || children === '') return null;
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function StageBuilds({ run, stage }: { run: RunFields; stage: StageRunFields }) {
  const project = useProject();
  const [{ data, error, fetching }, refetch] = useQuery({ query: RunPageStageBuilds, variables: { runId: run.id, stageRefId: stage.refId } });
  // Asked again only when the stage moves on (a new attempt, a finish): its builds change then.
  const key = `${stage.status}:${stage.attempt}`;
  const first = useRef(key);
  useEffect(() => {
    if (first.current !== key) refetch({ requestPolicy: 'network-only' });
  }, [key, refetch]);
  const builds = data?.builds.edges.map((e) => e.node) ?? [];
  return (
    <section aria-labelledby="stage-builds-h">
      <h3 id="stage-builds-h">Builds</h3>
      {error && <p className="mutation-error">{errorMessage(error)}</p>}
      {!error && fetching && !data && <p className="muted">Loading builds…</p>}
      {!error && data && !builds.length && <p className="muted">No build yet.</p>}
      {builds.length > 0 && (
        <ul className="runs-links">
          {builds.map((b) => (
            <li key={b.id}>
              <Link to={buildUrl(project.slug, b.id)}>Build #{b.number}</Link> <span className={`status status-${b.status}`}>{b.status}</span>
              {b.image && <span className="mono small"> {b.image}</span>}
            </li>
          ))}
        </ul>
      )}
      <Link to={stageBuildsUrl(project.slug, run.pipelineId, stage.refId)}>All builds of this stage</Link>
    </section>
  );
}

function RestartStage({ run, stage }: { run: RunFields; stage: StageRunFields }) {
  const project = useProject();
  const [asking, setAsking] = useState(false);
  const [result, restart] = useMutation(RunPageRestartStage);
  const close = useCallback(() => setAsking(false), []);
  if (!TERMINAL_STAGE_STATUSES.includes(stage.status)) return null;
  const confirm = async () => {
    const r = await restart({ runId: run.id, refId: stage.refId });
    if (!r.error) setAsking(false);
  };
  return (
    <div>
      <div className="actions">
        <button
          type="button"
          disabled={!project.canWrite || result.fetching}
          title={project.canWrite ? 'Runs this stage again with everything downstream of it' : 'Needs DEVELOPER or ADMIN in this project'}
          onClick={() => setAsking(true)}
        >
          Restart stage
        </button>
        {result.fetching && <span className="muted">Restarting…</span>}
      </div>
      {!asking && <MutationError error={result.error} />}
      {asking && (
        <ConfirmDialog title={`Restart ${stage.name}?`} onConfirm={confirm} onClose={close} busy={result.fetching}>
          <p>It runs again, with every stage downstream of it; who restarted it and when is recorded.</p>
          <MutationError error={result.error} />
        </ConfirmDialog>
      )}
    </div>
  );
}

function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="runs-json" aria-label={label} tabIndex={0}>
      {pretty(value)}
    </pre>
  );
}

function stageArtifacts(config: RevisionStage | undefined, run: RunFields): { name: string; value: unknown; produced: boolean }[] {
  const end = config?.endCondition as { artifacts?: { name?: unknown }[] } | null | undefined;
  const artifacts = (run.artifacts ?? {}) as Record<string, unknown>;
  return (end?.artifacts ?? []).flatMap((a) => (typeof a.name === 'string' ? [{ name: a.name, value: artifacts[a.name], produced: a.name in artifacts }] : []));
}

/**
 * The stage drawer (`?stage=<refId>`; Escape or "Close" closes it): status and times, the
 * judgement/approval controls while it waits, error, decision, outputs (with links to its build),
 * artifacts, the builds of a build stage, and the config of the revision the run executes.
 */
export function StageDrawer({ run, stage, config, onClose }: { run: RunFields; stage: StageRunFields; config: RevisionStage | undefined; onClose: () => void }) {
  const project = useProject();
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !document.querySelector('.modal-backdrop')) onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  useEffect(() => {
    ref.current?.focus();
  }, [stage.refId]);
  const active = stage.status === 'RUNNING' || stage.status === 'WAITING';
  const now = useNow(active && !!stage.startedAt && !stage.finishedAt);
  const links = outputLinks(project.slug, stage.outputs);
  const artifacts = stageArtifacts(config, run);
  const headingId = `stage-drawer-${stage.refId}`;
  return (
    <aside className="drawer runs-drawer" aria-labelledby={headingId} ref={ref} tabIndex={-1}>
      <div className="runs-drawer-head">
        <h2 id={headingId}>{stage.name}</h2>
        <span className={`status status-${stage.status}`}>{stage.status}</span>
        <span className="spacer" />
        <button type="button" onClick={onClose} aria-label="Close stage details">
          Close
        </button>
      </div>
      <dl className="runs-facts">
        <Fact label="Type">
          <span className="mono">{stage.type}</span>
        </Fact>
        <Fact label="Ref id">
          <span className="mono">{stage.refId}</span>
        </Fact>
        <Fact label="Attempt">{stage.attempt > 0 ? String(stage.attempt) : null}</Fact>
        <Fact label="Started">{stage.startedAt ? <time dateTime={stage.startedAt}>{formatTime(stage.startedAt)}</time> : 'not yet'}</Fact>
        <Fact label="Finished">{stage.finishedAt ? <time dateTime={stage.finishedAt}>{formatTime(stage.finishedAt)}</time> : null}</Fact>
        <Fact label="Duration">{durationBetween(stage.startedAt, stage.finishedAt, now || Date.now())}</Fact>
        <Fact label="Restarted">{stage.restartedBy ? `by ${stage.restartedBy} at ${formatTime(stage.restartedAt)}` : null}</Fact>
      </dl>

      <DecisionControls runId={run.id} stage={stage} idPrefix="drawer" />

      {stage.error && (
        <div className="runs-error" role="alert">
          <strong>Error</strong>
          <p>{stage.error}</p>
        </div>
      )}

      {stage.decision && (
        <section aria-labelledby="stage-decision-h">
          <h3 id="stage-decision-h">Decision</h3>
          <p>
            <span className={`status status-${stage.decision.decision === 'CONTINUE' ? 'SUCCEEDED' : 'STOPPED'}`}>{stage.decision.decision}</span>
            {stage.decision.value && (
              <>
                {' '}
                with <strong>{stage.decision.value}</strong>
              </>
            )}{' '}
            by <strong>{stage.decision.by}</strong> at <time dateTime={stage.decision.at}>{formatTime(stage.decision.at)}</time>
          </p>
          {stage.decision.comment && <blockquote className="runs-comment">{stage.decision.comment}</blockquote>}
        </section>
      )}

      <RestartStage run={run} stage={stage} />

      {BUILD_STAGE_TYPES.includes(stage.type) && stage.attempt > 0 && <StageBuilds run={run} stage={stage} />}

      <section aria-labelledby="stage-outputs-h">
        <h3 id="stage-outputs-h">Outputs</h3>
        {links.length > 0 && (
          <ul className="runs-links">
            {links.map((l) => (
              <li key={l.label}>
                {l.to ? (
                  <Link to={l.to}>{l.label}</Link>
                ) : l.href ? (
                  <a href={l.href} target="_blank" rel="noreferrer">
                    {l.label}
                  </a>
                ) : (
                  <span className="mono">{l.label}</span>
                )}
              </li>
            ))}
          </ul>
        )}
        {stage.outputs != null && !(typeof stage.outputs === 'object' && Object.keys(stage.outputs).length === 0) ? (
          <Json value={stage.outputs} label="Outputs" />
        ) : (
          <p className="muted">None{TERMINAL_STAGE_STATUSES.includes(stage.status) ? '' : ' yet'}.</p>
        )}
      </section>

      {artifacts.length > 0 && (
        <section aria-labelledby="stage-artifacts-h">
          <h3 id="stage-artifacts-h">Artifacts</h3>
          <dl className="runs-facts">
            {artifacts.map((a) => (
              <Fact key={a.name} label={a.name}>
                {a.produced ? <span className="mono">{typeof a.value === 'string' ? a.value : pretty(a.value)}</span> : <span className="muted">not produced</span>}
              </Fact>
            ))}
          </dl>
        </section>
      )}

      <section aria-labelledby="stage-config-h">
        <h3 id="stage-config-h">Config</h3>
        {config ? (
          <>
            <dl className="runs-facts">
              <Fact label="Depends on">{config.dependsOn.length ? config.dependsOn.join(', ') : 'nothing'}</Fact>
              <Fact label="On failure">{config.failurePolicy}</Fact>
              <Fact label="Timeout">{config.timeoutSeconds ? `${config.timeoutSeconds} s` : null}</Fact>
              <Fact label="Retry">{config.retry ? `${config.retry.maxAttempts} attempts, ${config.retry.backoffSeconds} s apart` : null}</Fact>
            </dl>
            <Json value={config.config} label="Config" />
            {config.startCondition != null && <Json value={config.startCondition} label="Start condition" />}
            {config.endCondition != null && <Json value={config.endCondition} label="End condition" />}
            <Link to={editorUrl(project.slug, run.pipelineId, stage.refId)}>Open in the pipeline editor</Link>
          </>
        ) : (
          <p className="muted">The config of revision {run.revision} cannot be read.</p>
        )}
      </section>
    </aside>
  );
}
