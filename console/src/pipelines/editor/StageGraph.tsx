import {
  Background,
  Controls,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useNodesInitialized,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
  type NodeHandle,
  type NodeProps,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useEffect, useMemo, useState } from 'react';
import { dependencyProblem, type DraftStage, type StageTypeInfo } from '../draft';
import { NODE_HEIGHT, NODE_WIDTH, edgesOf, elkLayout, quickLayout, type Positions } from './layout';

interface StageNodeData extends Record<string, unknown> {
  name: string;
  typeLabel: string;
  problems: number;
  readOnly: boolean;
}
type StageNode = Node<StageNodeData, 'stage'>;

function StageNodeView({ data, selected }: NodeProps<StageNode>) {
  return (
    <div className={`stage-node${selected ? ' selected' : ''}${data.problems ? ' has-problems' : ''}`} title={data.problems ? `${data.problems} problem(s): open the stage to see them` : undefined}>
      <Handle type="target" position={Position.Left} isConnectable={!data.readOnly} />
      <div className="stage-node-name">{data.name}</div>
      <div className="stage-node-type">{data.typeLabel}</div>
      {data.problems > 0 && (
        <span className="stage-node-badge" aria-hidden="true">
          {data.problems}
        </span>
      )}
      <Handle type="source" position={Position.Right} isConnectable={!data.readOnly} />
    </div>
  );
}

const nodeTypes = { stage: StageNodeView };

/**
 * Every node's size and handles (pipelines.css: 10 px handles centred on its left and right
 * edges), given with each node. React Flow forgets what it measured of a node whenever the node
 * object is new (after a save every node is), and the parent must hand a measurement back: until
 * then it hides the node and draws none of its edges. Seen after Save: only one stage in view, at
 * the highest zoom, no edge at all.
 */
const NODE_MEASURED = { width: NODE_WIDTH, height: NODE_HEIGHT };
const NODE_HANDLES: NodeHandle[] = [
  { type: 'target', position: Position.Left, x: -5, y: NODE_HEIGHT / 2 - 5, width: 10, height: 10 },
  { type: 'source', position: Position.Right, x: NODE_WIDTH - 5, y: NODE_HEIGHT / 2 - 5, width: 10, height: 10 },
];

export const edgeId = (source: string, target: string) => `${source}->${target}`;

export interface StageGraphProps {
  stages: DraftStage[];
  types: Map<string, StageTypeInfo>;
  selectedStage: string | null;
  selectedEdge: string | null;
  /** Problems per stage refId: the node shows a badge. */
  problems: Record<string, number>;
  readOnly: boolean;
  onSelectStage: (refId: string) => void;
  onSelectEdge: (edgeId: string | null) => void;
  /** `target` shall depend on `source`. */
  onConnect: (source: string, target: string) => void;
  onDisconnect: (source: string, target: string) => void;
}

/**
 * Fits the graph into view whenever its layout changes, once its nodes have been measured (a fit
 * before that is computed without their sizes and can leave stages, and their edges, out of view).
 */
function FitOnLayout({ layoutKey }: { layoutKey: string }) {
  const flow = useReactFlow();
  const measured = useNodesInitialized();
  useEffect(() => {
    if (!measured) return;
    const t = window.setTimeout(() => void flow.fitView({ padding: 0.15, maxZoom: 1.1 }), 30);
    return () => window.clearTimeout(t);
  }, [flow, layoutKey, measured]);
  return null;
}

/**
 * The stages as a graph, left to right (elk's layered layout): a node per stage (name, type),
 * an edge per dependency. Drag from a node's right handle onto another stage to make that one
 * depend on it; select an edge and press Delete or Backspace to remove it.
 */
export function StageGraph(props: StageGraphProps) {
  return (
    <ReactFlowProvider>
      <Graph {...props} />
    </ReactFlowProvider>
  );
}

function Graph({ stages, types, selectedStage, selectedEdge, problems, readOnly, onSelectStage, onSelectEdge, onConnect, onDisconnect }: StageGraphProps) {
  const structure = useMemo(() => stages.map((s) => ({ refId: s.refId, dependsOn: s.dependsOn })), [stages]);
  const layoutKey = JSON.stringify(structure);
  const [elk, setElk] = useState<{ key: string; positions: Positions } | null>(null);
  useEffect(() => {
    let live = true;
    const graph = JSON.parse(layoutKey) as typeof structure;
    elkLayout(graph)
      .then((positions) => live && setElk({ key: layoutKey, positions }))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [layoutKey]);
  const positions = useMemo(() => (elk?.key === layoutKey ? elk.positions : quickLayout(JSON.parse(layoutKey) as typeof structure)), [elk, layoutKey]);
  const byRef = useMemo(() => new Map(stages.map((s) => [s.refId, s])), [stages]);

  const nodes = useMemo<StageNode[]>(
    () =>
      stages.map((s) => ({
        id: s.refId,
        type: 'stage',
        position: positions[s.refId] ?? { x: 0, y: 0 },
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        measured: NODE_MEASURED,
        handles: NODE_HANDLES,
        selected: s.refId === selectedStage,
        draggable: false,
        deletable: false,
        connectable: !readOnly,
        ariaLabel: `Stage ${s.name} (${types.get(s.type)?.label ?? s.type})${problems[s.refId] ? `, ${problems[s.refId]} problem(s)` : ''}`,
        data: { name: s.name || s.refId, typeLabel: types.get(s.type)?.label ?? s.type, problems: problems[s.refId] ?? 0, readOnly },
      })),
    [stages, positions, selectedStage, types, problems, readOnly],
  );
  const edges = useMemo<Edge[]>(
    () =>
      edgesOf(structure).map(({ source, target }) => {
        const id = edgeId(source, target);
        const selected = id === selectedEdge;
        return {
          id,
          source,
          target,
          selected,
          deletable: !readOnly,
          interactionWidth: 24,
          ariaLabel: `Dependency from ${byRef.get(source)?.name ?? source} to ${byRef.get(target)?.name ?? target}`,
          markerEnd: { type: MarkerType.ArrowClosed, color: selected ? '#2f6fed' : '#8a94a6' },
          style: { stroke: selected ? '#2f6fed' : '#8a94a6', strokeWidth: selected ? 3 : 1.5 },
        };
      }),
    [structure, selectedEdge, byRef, readOnly],
  );

  const onNodesChange = (changes: NodeChange<StageNode>[]) => {
    for (const c of changes) if (c.type === 'select' && c.selected) onSelectStage(c.id);
  };
  const onEdgesChange = (changes: EdgeChange[]) => {
    for (const c of changes) {
      if (c.type === 'select') {
        if (c.selected) onSelectEdge(c.id);
        else if (c.id === selectedEdge) onSelectEdge(null);
      }
    }
  };
  const valid = (c: Connection | Edge) => !readOnly && Boolean(c.source && c.target) && dependencyProblem(stages, c.source, c.target) === null;

  return (
    <ReactFlow<StageNode, Edge>
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      onNodesChange={onNodesChange}
      onEdgesChange={onEdgesChange}
      onNodeClick={(_, n) => onSelectStage(n.id)}
      onEdgeClick={(_, e) => onSelectEdge(e.id)}
      onPaneClick={() => onSelectEdge(null)}
      onConnect={(c) => valid(c) && onConnect(c.source, c.target)}
      isValidConnection={valid}
      onEdgesDelete={(deleted) => deleted.forEach((e) => onDisconnect(e.source, e.target))}
      deleteKeyCode={readOnly ? null : ['Delete', 'Backspace']}
      nodesDraggable={false}
      nodesConnectable={!readOnly}
      elementsSelectable
      multiSelectionKeyCode={null}
      selectionKeyCode={null}
      minZoom={0.5}
      maxZoom={1.5}
      fitView
      proOptions={{ hideAttribution: true }}
    >
      <FitOnLayout layoutKey={`${layoutKey}:${elk?.key === layoutKey}:${selectedStage !== null}`} />
      <Background gap={16} />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}
