import { useMemo, useState } from 'react';
import { Empty } from '../../ui/states';
import { newStage, withDependency, withoutDependency, withoutStage, type DraftPipeline, type DraftStage, type StageTypeInfo } from '../draft';
import { AddStageDialog } from './AddStageDialog';
import { StageForm } from './StageForm';
import { StageGraph } from './StageGraph';

export interface StagesTabProps {
  draft: DraftPipeline;
  onStages: (update: (stages: DraftStage[]) => DraftStage[]) => void;
  types: StageTypeInfo[];
  pipelineId: string;
  selected: string | null;
  onSelect: (refId: string | null) => void;
  /** Problems by stage refId, paths relative to the stage. */
  errors: Record<string, Record<string, string>>;
  readOnly: boolean;
}

/** The stage graph with "+Add Stage", and the selected stage's form beside it. */
export function StagesTab({ draft, onStages, types, pipelineId, selected, onSelect, errors, readOnly }: StagesTabProps) {
  const [adding, setAdding] = useState(false);
  const [selectedEdge, setSelectedEdge] = useState<string | null>(null);
  const typeMap = useMemo(() => new Map(types.map((t) => [t.type as string, t])), [types]);
  const problems = useMemo(() => Object.fromEntries(Object.entries(errors).map(([r, e]) => [r, Object.keys(e).length])), [errors]);
  const stage = draft.stages.find((s) => s.refId === selected) ?? null;
  const edge = selectedEdge ? draft.stages.flatMap((s) => s.dependsOn.map((d) => ({ source: d, target: s.refId }))).find((e) => `${e.source}->${e.target}` === selectedEdge) : undefined;
  const name = (refId: string) => draft.stages.find((s) => s.refId === refId)?.name ?? refId;

  const add = (t: StageTypeInfo) => {
    const s = newStage(t, draft.stages, selected);
    onStages((stages) => [...stages, s]);
    setAdding(false);
    onSelect(s.refId);
  };
  const removeEdge = () => {
    if (!edge) return;
    onStages((stages) => withoutDependency(stages, edge.source, edge.target));
    setSelectedEdge(null);
  };

  return (
    <div className={`stages-tab${stage ? ' with-form' : ''}`}>
      <div className="stages-main">
        <div className="toolbar">
          {!readOnly && (
            <button type="button" className="primary" onClick={() => setAdding(true)}>
              +Add Stage
            </button>
          )}
          {!readOnly && (
            <button type="button" onClick={removeEdge} disabled={!edge} title={edge ? undefined : 'Select a dependency (an arrow) in the graph first'}>
              Remove dependency
            </button>
          )}
          <span className="muted" aria-live="polite">
            {edge ? `Selected: "${name(edge.target)}" depends on "${name(edge.source)}" (Delete removes it)` : `${draft.stages.length} stage(s)`}
          </span>
        </div>
        <div className="stage-graph" role="region" aria-label="Stage graph">
          {draft.stages.length ? (
            <StageGraph
              stages={draft.stages}
              types={typeMap}
              selectedStage={selected}
              selectedEdge={selectedEdge}
              problems={problems}
              readOnly={readOnly}
              onSelectStage={(r) => {
                setSelectedEdge(null);
                onSelect(r);
              }}
              onSelectEdge={setSelectedEdge}
              onConnect={(source, target) => onStages((stages) => withDependency(stages, source, target))}
              onDisconnect={(source, target) => {
                onStages((stages) => withoutDependency(stages, source, target));
                setSelectedEdge(null);
              }}
            />
          ) : (
            <Empty title="No stages yet">{readOnly ? 'This pipeline has no stages.' : 'Add the first one with +Add Stage.'}</Empty>
          )}
        </div>
        {Object.keys(problems).length > 0 && (
          <ul className="stage-problem-list" aria-label="Stages with problems">
            {Object.entries(problems).map(([refId, n]) => (
              <li key={refId}>
                <button type="button" className="link" onClick={() => onSelect(refId)}>
                  {name(refId)}: {n} problem(s)
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {stage && (
        <aside className="stage-panel">
          <StageForm
            key={stage.refId}
            stage={stage}
            stages={draft.stages}
            info={typeMap.get(stage.type)}
            pipelineId={pipelineId}
            errors={errors[stage.refId]}
            readOnly={readOnly}
            onChange={(next) => onStages((stages) => stages.map((s) => (s.refId === next.refId ? next : s)))}
            onRemove={() => {
              // A draft edit like any other (nothing is lost until Save): no confirmation.
              onStages((stages) => withoutStage(stages, stage.refId));
              onSelect(null);
            }}
            onClose={() => onSelect(null)}
          />
        </aside>
      )}
      {adding && <AddStageDialog types={types} onPick={add} onClose={() => setAdding(false)} />}
    </div>
  );
}
