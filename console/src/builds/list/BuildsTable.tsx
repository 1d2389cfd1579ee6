import { Link } from 'react-router';
import type { BuildsListQuery } from '../../gql/graphql';
import { useProject } from '../../projects/ProjectContext';
import { buildProduct, formatDuration, formatTime, stageTypeLabel, urls } from '../buildInfo';
import { ProductCell } from '../ProductCell';
import type { PipelineInfo } from './BuildsListPage';

type BuildRow = BuildsListQuery['builds']['edges'][number]['node'];

export function BuildsTable({ builds, pipelines }: { builds: BuildRow[]; pipelines: Map<string, PipelineInfo> }) {
  return (
    <table className="builds-table">
      <thead>
        <tr>
          <th scope="col">Build</th>
          <th scope="col">Status</th>
          <th scope="col">Pipeline</th>
          <th scope="col">Stage</th>
          <th scope="col">Image / tag</th>
          <th scope="col">Run</th>
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {builds.map((b) => (
          <Row key={b.id} build={b} pipeline={pipelines.get(b.pipelineId) ?? null} />
        ))}
      </tbody>
    </table>
  );
}

function Row({ build: b, pipeline }: { build: BuildRow; pipeline: PipelineInfo | null }) {
  const { slug } = useProject();
  const logUrl = urls.build(slug, b.id);
  const stage = pipeline?.stages.find((s) => s.refId === b.stageRefId);
  return (
    <tr>
      <td className="nowrap">
        <Link to={logUrl} className="build-number">
          #{b.number}
        </Link>
      </td>
      <td className="nowrap">
        <span className={`status status-${b.status}`}>{b.status}</span>
      </td>
      <td>{pipeline ? <Link to={urls.pipeline(slug, b.pipelineId)}>{pipeline.name}</Link> : <span className="muted mono" title={b.pipelineId}>{b.pipelineId.slice(0, 8)}…</span>}</td>
      <td>
        <div>{stage?.name ?? b.stageRefId}</div>
        <div className="muted small">{stageTypeLabel(b.stageType)}</div>
      </td>
      <td className="builds-product">
        <ProductCell product={buildProduct(b)} logUrl={logUrl} />
      </td>
      <td className="nowrap">
        <Link to={urls.run(slug, b.runId)}>run #{b.runNumber}</Link>
      </td>
      <td className="nowrap" title={b.startedAt ?? `queued ${b.queuedAt}`}>{b.startedAt ? formatTime(b.startedAt) : <span className="muted">{b.status === 'QUEUED' ? 'queued' : '—'}</span>}</td>
      <td className="nowrap">{formatDuration(b.durationSeconds)}</td>
      <td className="nowrap">
        <Link to={urls.editStage(slug, b.pipelineId, b.stageRefId)}>Edit build</Link>
      </td>
    </tr>
  );
}
