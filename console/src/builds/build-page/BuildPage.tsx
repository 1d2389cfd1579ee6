import { useCallback, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import type { BuildPageQuery as BuildPageData } from '../../gql/graphql';
import { useProject } from '../../projects/ProjectContext';
import { LogView } from '../../ui/log-view';
import { Empty, ErrorState, Loading, errorMessage } from '../../ui/states';
import { buildProduct, formatDuration, formatTime, isActive, stageTypeLabel, urls } from '../buildInfo';
import { ProductCell } from '../ProductCell';

export const BuildPageQuery = graphql(`
  query BuildPage($id: ID!) {
    build(id: $id) {
      id
      projectId
      number
      status
      stageType
      stageRefId
      pipelineId
      runId
      runNumber
      image
      digest
      outputs
      error
      warning
      queuedAt
      startedAt
      finishedAt
      durationSeconds
      logLineCount
    }
  }
`);

export const BuildPagePipelineQuery = graphql(`
  query BuildPagePipeline($id: ID!) {
    pipeline(id: $id) {
      id
      name
      stages {
        refId
        name
        type
      }
    }
  }
`);

type Build = NonNullable<BuildPageData['build']>;

/** `/p/:project/builds/:buildId`: what the build is and made, and its log, live while it runs. */
export function BuildPage() {
  const { buildId = '' } = useParams();
  const { slug } = useProject();
  const [{ data, fetching, error }, reexecute] = useQuery({ query: BuildPageQuery, variables: { id: buildId } });
  const reload = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);

  if (error && !data?.build) return <ErrorState title="Cannot load the build" message={errorMessage(error)} action={<button type="button" onClick={reload}>Try again</button>} />;
  if (!data) return fetching ? <Loading label="Loading the build" /> : null;
  const build = data.build;
  if (!build)
    return (
      <Empty title="No such build">
        It may have been deleted. <Link to={urls.builds(slug)}>All builds</Link>
      </Empty>
    );
  return <BuildDetails key={build.id} build={build} reload={reload} />;
}

function BuildDetails({ build: b, reload }: { build: Build; reload: () => void }) {
  const project = useProject();
  const slug = project.slug;
  const [{ data: pipelineData }] = useQuery({ query: BuildPagePipelineQuery, variables: { id: b.pipelineId } });
  const pipeline = pipelineData?.pipeline ?? null;
  const stage = pipeline?.stages.find((s) => s.refId === b.stageRefId) ?? null;
  const active = isActive(b.status);
  const product = buildProduct(b);
  // The log's end says the build finished: read its final status, outputs and times.
  const onComplete = useCallback(() => {
    if (active) reload();
  }, [active, reload]);
  // Lines of a queued build: it started (read its start time).
  const onFirstLines = useCallback(() => {
    if (b.status === 'QUEUED') reload();
  }, [b.status, reload]);

  return (
    <div className="build-page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to={urls.builds(slug)}>Builds</Link> ›{' '}
        <Link to={urls.builds(slug, { pipeline: b.pipelineId, stage: b.stageRefId })}>
          {pipeline?.name ?? 'pipeline'} / {stage?.name ?? b.stageRefId}
        </Link>
      </nav>
      <div className="page-header">
        <h1>
          Build #{b.number}
        </h1>
        <span className={`status status-${b.status}`}>{b.status}</span>
        <span className="spacer" />
        <Link className="button-link" to={urls.editStage(slug, b.pipelineId, b.stageRefId)}>
          Edit build
        </Link>
      </div>
      {b.projectId !== project.id && <p className="muted">This build belongs to another project.</p>}
      <dl className="build-facts panel">
        <div>
          <dt>Pipeline</dt>
          <dd>{pipeline ? <Link to={urls.pipeline(slug, b.pipelineId)}>{pipeline.name}</Link> : <span className="mono muted">{b.pipelineId}</span>}</dd>
        </div>
        <div>
          <dt>Stage</dt>
          <dd>
            <Link to={urls.editStage(slug, b.pipelineId, b.stageRefId)}>{stage?.name ?? b.stageRefId}</Link> <span className="muted">{stageTypeLabel(b.stageType)}</span>
          </dd>
        </div>
        <div className="build-facts-wide">
          <dt>{productLabel(b.stageType)}</dt>
          <dd>
            {product ? <ProductCell product={product} long /> : <span className="muted">{active ? 'not yet' : '—'}</span>}
            {b.digest && (
              <div className="mono muted small digest" title={b.digest}>
                {b.digest}
              </div>
            )}
          </dd>
        </div>
        <div>
          <dt>Run</dt>
          <dd>
            <Link to={urls.run(slug, b.runId)}>run #{b.runNumber}</Link>
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd title={b.startedAt ?? undefined}>{b.startedAt ? formatTime(b.startedAt) : <span className="muted">{b.status === 'QUEUED' ? `queued ${formatTime(b.queuedAt)}` : '—'}</span>}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd title={b.finishedAt ?? undefined}>{b.finishedAt ? formatTime(b.finishedAt) : <span className="muted">{active ? 'not yet' : '—'}</span>}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{active && b.startedAt ? <Elapsed since={b.startedAt} /> : formatDuration(b.durationSeconds)}</dd>
        </div>
      </dl>
      {b.error && (
        <p className="build-error" role="alert">
          {b.error}
        </p>
      )}
      {b.warning && <p className="build-warning">{b.warning}</p>}
      <div className="build-log">
        <LogView buildId={b.id} running={active} fileName={`build-${b.number}-${b.stageRefId}.log`} onComplete={onComplete} onFirstLines={onFirstLines} />
      </div>
    </div>
  );
}

function productLabel(stageType: string): string {
  if (stageType.startsWith('SOURCE_')) return 'Commit';
  if (stageType === 'BAKE_MANIFEST') return 'Chart';
  if (stageType === 'BUILD_JENKINS') return 'Jenkins job';
  return 'Image';
}

/** Seconds since a running build started, counted in the browser (nothing is fetched). */
function Elapsed({ since }: { since: string }) {
  const start = new Date(since).getTime();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setTimeout(() => setNow(Date.now()), 1000);
    return () => clearTimeout(t);
  }, [now]);
  return <>{formatDuration((now - start) / 1000)} so far</>;
}
