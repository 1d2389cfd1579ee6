import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo, type KeyboardEvent } from 'react';
import { durationBetween } from './format';
import { isActive, useNow, useOpenStage, useStageSelected, useStageState } from './stateStore';
import type { GraphStage } from './types';

export type StageFlowNode = Node<{ stage: GraphStage }, 'stage'>;

function Duration({ startedAt, finishedAt, ticking }: { startedAt?: string | null; finishedAt?: string | null; ticking: boolean }) {
  const now = useNow(ticking && !finishedAt);
  const text = durationBetween(startedAt, finishedAt, now || Date.now());
  return text ? <span className="rg-duration">{text}</span> : null;
}

/**
 * One stage: name, type, status badge, duration (ticking while it runs), attempt when > 1. Its
 * static part comes from the layout; status and times from the StageStateStore, so an update
 * re-renders only the nodes whose stage changed.
 */
export const StageNode = memo(function StageNode({ id, data }: NodeProps<StageFlowNode>) {
  const state = useStageState(id);
  const selected = useStageSelected(id);
  const open = useOpenStage();
  const { stage } = data;
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      open(id);
    }
  };
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} className="rg-handle" />
      <div
        role="button"
        tabIndex={0}
        aria-label={`${stage.name}: ${state.status}`}
        aria-pressed={selected}
        data-refid={id}
        data-status={state.status}
        className={`rg-node rg-node-${state.status}${selected ? ' rg-node-selected' : ''}`}
        onClick={() => open(id)}
        onKeyDown={onKeyDown}
      >
        <div className="rg-node-name" title={stage.name}>
          {stage.name}
        </div>
        <div className="rg-node-row">
          <span className="rg-node-type">{stage.type}</span>
          <span className={`status status-${state.status}`}>{state.status}</span>
        </div>
        <div className="rg-node-row rg-node-times">
          <Duration startedAt={state.startedAt} finishedAt={state.finishedAt} ticking={isActive(state.status)} />
          {(state.attempt ?? 0) > 1 && <span className="rg-attempt">attempt {state.attempt}</span>}
        </div>
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} className="rg-handle" />
    </>
  );
});
