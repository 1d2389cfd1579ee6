import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery, useSubscription } from 'urql';
import type { RunStatus } from '../../gql/graphql';
import { useLinkGeneration } from '../../graphql/GraphQLProvider';
import { useProject } from '../../projects/ProjectContext';
import { Pager, usePager } from '../../ui/Pager';
import { durationBetween, useNow } from '../../ui/run-graph';
import { Empty, ErrorState, Loading, errorMessage } from '../../ui/states';
import { ACTIVE_RUN_STATUSES, RUN_STATUSES, editorUrl, formatTime, runUrl, runsUrl } from '../format';
import { RunPipelineButton } from '../RunPipelineButton';
import { RunTrigger } from '../RunTrigger';
import { applyDelivery, emptyLive, rowsOf, type LiveRows, type RunRow } from './liveRows';
import { RunsListPipelineQuery, RunsListQuery, RunsListRunsUpdated } from './queries';

/** Most pipelines followed live on the project's list (one runsUpdated subscription each). */
const MAX_LIVE_PIPELINES = 10;

function LiveFeed({ pipelineId, onRun }: { pipelineId: string; onRun: (r: RunRow) => void }) {
  const handler = useCallback((_: unknown, data: { runsUpdated: RunRow }) => {
    onRun(data.runsUpdated);
    return null;
  }, [onRun]);
  useSubscription({ query: RunsListRunsUpdated, variables: { pipelineId } }, handler);
  return null;
}

function Duration({ run }: { run: RunRow }) {
  const now = useNow(ACTIVE_RUN_STATUSES.includes(run.status) && !!run.startedAt && !run.finishedAt);
  return <>{durationBetween(run.startedAt, run.finishedAt, now || Date.now())}</>;
}

function RunsTable({ rows, showPipeline }: { rows: RunRow[]; showPipeline: boolean }) {
  const project = useProject();
  return (
    <table className="runs-table">
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Status</th>
          {showPipeline && <th scope="col">Pipeline</th>}
          <th scope="col">Revision</th>
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
          <th scope="col">Created by</th>
          <th scope="col">Trigger</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id}>
            <td>
              <Link to={runUrl(project.slug, r.id)} className="runs-number">
                #{r.number}
              </Link>
            </td>
            <td>
              <span className={`status status-${r.status}`}>{r.status}</span>
            </td>
            {showPipeline && (
              <td>
                <Link to={runsUrl(project.slug, r.pipelineId)}>{r.pipelineName}</Link>
              </td>
            )}
            <td>{r.revision}</td>
            <td>{r.startedAt ? <time dateTime={r.startedAt}>{formatTime(r.startedAt)}</time> : <span className="muted">queued {formatTime(r.createdAt)}</span>}</td>
            <td>
              <Duration run={r} />
            </td>
            <td>{r.createdBy}</td>
            <td>{r.trigger ? <RunTrigger trigger={r.trigger} /> : <span className="muted">—</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RunsList({ pipelineId, status }: { pipelineId: string | null; status: RunStatus | null }) {
  const project = useProject();
  const pager = usePager();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: RunsListQuery,
    variables: { ...(pipelineId ? { pipelineId, projectId: project.id } : { projectId: project.id }), status, ...pager.variables },
  });
  const base = useMemo(() => data?.runs.edges.map((e) => e.node) ?? [], [data]);
  const [live, setLive] = useState<LiveRows>(emptyLive);
  // A new page or a refetch starts from what the server says.
  useEffect(() => setLive(emptyLive()), [data]);

  // The WebSocket came back: what changed meanwhile is read again (runsUpdated has no replay).
  const generation = useLinkGeneration();
  const firstGeneration = useRef(generation);
  useEffect(() => {
    if (generation !== firstGeneration.current) refetch({ requestPolicy: 'network-only' });
  }, [generation, refetch]);

  const baseRef = useRef(base);
  baseRef.current = base;
  const firstPage = pager.page === 1;
  const onRun = useCallback((r: RunRow) => setLive((l) => applyDelivery(l, baseRef.current, r, { firstPage, status })), [firstPage, status]);

  const rows = useMemo(() => rowsOf(live, base), [live, base]);
  const followed = useMemo(() => (pipelineId ? [pipelineId] : [...new Set(base.map((r) => r.pipelineId))].slice(0, MAX_LIVE_PIPELINES)), [pipelineId, base]);

  return (
    <>
      {followed.map((id) => (
        <LiveFeed key={id} pipelineId={id} onRun={onRun} />
      ))}
      {error ? (
        <ErrorState message={errorMessage(error)} />
      ) : !data && fetching ? (
        <Loading label="Loading runs" />
      ) : rows.length ? (
        <>
          <RunsTable rows={rows} showPipeline={!pipelineId} />
          <Pager pager={pager} pageInfo={data?.runs.pageInfo} totalCount={data ? data.runs.totalCount + live.added.length : null} />
        </>
      ) : (
        <Empty title={status ? `No ${status} runs` : 'No runs yet'}>{pipelineId ? (status ? 'Pick another status.' : 'Start one with "Run".') : 'Runs appear here when a pipeline runs.'}</Empty>
      )}
    </>
  );
}

/** `/p/:project/runs` (`?pipeline=<id>` for one pipeline's runs, `?status=` to filter). */
export function RunsListPage() {
  const project = useProject();
  const [search, setSearch] = useSearchParams();
  const pipelineId = search.get('pipeline');
  const statusParam = search.get('status');
  const status = (RUN_STATUSES as readonly string[]).includes(statusParam ?? '') ? (statusParam as RunStatus) : null;
  const [{ data: pdata, error: perror }] = useQuery({ query: RunsListPipelineQuery, variables: { id: pipelineId ?? '' }, pause: !pipelineId });
  const pipeline = pdata?.pipeline;

  const setStatus = (value: string) =>
    setSearch((s) => {
      const n = new URLSearchParams(s);
      if (value) n.set('status', value);
      else n.delete('status');
      return n;
    });

  return (
    <div className="runs-list-page">
      <div className="page-header">
        <h1>{pipelineId ? `Runs of ${pipeline?.name ?? '…'}` : 'Runs'}</h1>
        {pipeline && <Link to={editorUrl(project.slug, pipeline.id)}>Edit pipeline</Link>}
        {pipelineId && (
          <Link to={runsUrl(project.slug)} className="muted">
            all runs of {project.name}
          </Link>
        )}
        <span className="spacer" />
        {pipelineId && <RunPipelineButton pipelineId={pipelineId} />}
      </div>
      {perror && <ErrorState message={errorMessage(perror)} />}
      {pdata && !pipeline && <Empty title="No such pipeline">There is no pipeline {pipelineId}.</Empty>}
      <div className="toolbar">
        <label htmlFor="runs-status-filter">Status</label>
        <select id="runs-status-filter" value={status ?? ''} onChange={(e) => setStatus(e.target.value)}>
          <option value="">All statuses</option>
          {RUN_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <span className="muted small">Live: {pipelineId ? 'changes appear as they happen' : 'runs of the pipelines on this page update as they happen'}</span>
      </div>
      {/* A new filter or pipeline starts at page 1 with an empty live overlay. */}
      <RunsList key={`${pipelineId ?? ''}|${status ?? ''}`} pipelineId={pipelineId} status={status} />
    </div>
  );
}
