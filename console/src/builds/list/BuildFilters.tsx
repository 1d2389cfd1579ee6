import { useId } from 'react';
import { stageTypeLabel } from '../buildInfo';
import type { PipelineInfo } from './BuildsListPage';

/** The list's filters: a pipeline of the project, then one of its stages that make builds. */
export function BuildFilters({
  pipelines,
  pipelinesTotal,
  pipelinesError,
  pipelineId,
  stageRefId,
  onChange,
}: {
  /** null while loading. */
  pipelines: PipelineInfo[] | null;
  pipelinesTotal: number;
  pipelinesError: string | null;
  pipelineId: string | null;
  stageRefId: string | null;
  onChange: (filter: { pipeline: string | null; stage: string | null }) => void;
}) {
  const id = useId();
  const selected = pipelines?.find((p) => p.id === pipelineId) ?? null;
  const stages = selected?.stages ?? [];
  return (
    <div className="toolbar builds-filters">
      <label htmlFor={`${id}-pipeline`}>Pipeline</label>
      <select id={`${id}-pipeline`} value={pipelineId ?? ''} onChange={(e) => onChange({ pipeline: e.target.value || null, stage: null })} disabled={!pipelines && !pipelineId}>
        <option value="">{pipelines ? 'All pipelines' : 'Loading pipelines…'}</option>
        {pipelines?.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
        {/* A pipeline in the URL that is not (or not yet) listed stays selectable. */}
        {pipelineId && !selected && <option value={pipelineId}>{pipelines ? `pipeline ${pipelineId.slice(0, 8)}…` : 'Loading…'}</option>}
      </select>
      <label htmlFor={`${id}-stage`}>Stage</label>
      <select id={`${id}-stage`} value={stageRefId ?? ''} onChange={(e) => onChange({ pipeline: pipelineId, stage: e.target.value || null })} disabled={!pipelineId}>
        <option value="">{pipelineId ? 'All stages' : 'Pick a pipeline first'}</option>
        {stages.map((s) => (
          <option key={s.refId} value={s.refId} title={stageTypeLabel(s.type)}>
            {stages.filter((o) => o.name === s.name).length > 1 ? `${s.name} (${s.refId})` : s.name}
          </option>
        ))}
        {stageRefId && !stages.some((s) => s.refId === stageRefId) && <option value={stageRefId}>{stageRefId}</option>}
      </select>
      {selected && stages.length === 0 && <span className="muted">This pipeline has no Source, Build or Bake stage.</span>}
      {pipelinesTotal > 100 && <span className="muted">The first 100 pipelines by name are listed.</span>}
      {pipelinesError && (
        <span className="field-error" role="alert">
          Cannot load the pipelines: {pipelinesError}
        </span>
      )}
    </div>
  );
}
