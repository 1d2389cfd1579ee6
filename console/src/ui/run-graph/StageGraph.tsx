import { Background, Controls, MarkerType, ReactFlow, type Edge, type ReactFlowInstance, type Viewport } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { NODE_HEIGHT, NODE_WIDTH, layoutStages, structureSignature, type StageLayout } from './layout';
import { GraphContext, StageStateStore, type GraphContextValue } from './stateStore';
import { StageNode, type StageFlowNode } from './StageNode';
import type { GraphStage, GraphStageState } from './types';
import './run-graph.css';

const nodeTypes = { stage: StageNode };
/** Above this many stages only the nodes and edges in view are in the DOM. */
const VISIBLE_ONLY_ABOVE = 60;
const MIN_READABLE_ZOOM = 0.55;
const NODE_STYLE = { pointerEvents: 'all' } as const;

export interface StageGraphProps {
  /** Every stage of the pipeline revision (structure: laid out once per distinct structure). */
  stages: readonly GraphStage[];
  /** The run's state of each stage by refId; stages missing here are NOT_STARTED. */
  states: ReadonlyMap<string, GraphStageState>;
  selectedRefId?: string | null;
  /** A node was clicked or activated with Enter/Space. */
  onOpen?: (refId: string) => void;
  /** Called once the graph is laid out and drawn. */
  onReady?: () => void;
  ariaLabel?: string;
}

function useLayout(stages: readonly GraphStage[]) {
  const signature = useMemo(() => structureSignature(stages), [stages]);
  const [result, setResult] = useState<{ signature: string; layout?: StageLayout; error?: Error } | null>(null);
  useEffect(() => {
    let live = true;
    layoutStages(stages, signature).then(
      (layout) => live && setResult({ signature, layout }),
      (error: Error) => live && setResult({ signature, error }),
    );
    return () => {
      live = false;
    };
    // `stages` with the same signature lay out the same: only the signature matters.
  }, [signature]);
  return result?.signature === signature ? result : null;
}

/** Where to look first: the whole graph when it fits readably, else its left end (where a run starts). */
function initialViewport(layout: StageLayout, box: { width: number; height: number }): Viewport | null {
  if (!box.width || !box.height) return null;
  const pad = 24;
  const fit = Math.min((box.width - 2 * pad) / Math.max(layout.width, 1), (box.height - 2 * pad) / Math.max(layout.height, 1), 1);
  if (fit >= MIN_READABLE_ZOOM) {
    return { x: (box.width - layout.width * fit) / 2, y: (box.height - layout.height * fit) / 2, zoom: fit };
  }
  const zoom = MIN_READABLE_ZOOM;
  const y = layout.height * zoom < box.height ? (box.height - layout.height * zoom) / 2 : pad;
  return { x: pad, y, zoom };
}

/**
 * A run's stage graph: every stage of the revision, laid out with ELK (layered, left to right)
 * once per structure and drawn with React Flow. Run updates go through a StageStateStore that
 * re-renders only the nodes whose stage changed; nodes, edges and layout stay as they are.
 */
export function StageGraph({ stages, states, selectedRefId = null, onOpen, onReady, ariaLabel = 'Stage graph' }: StageGraphProps) {
  const [store] = useState(() => new StageStateStore(states, selectedRefId));
  useLayoutEffect(() => void store.update(states), [store, states]);
  useLayoutEffect(() => store.select(selectedRefId), [store, selectedRefId]);

  const onOpenRef = useRef(onOpen);
  useLayoutEffect(() => {
    onOpenRef.current = onOpen;
  }, [onOpen]);
  const context = useMemo<GraphContextValue>(() => ({ store, open: (refId) => onOpenRef.current?.(refId) }), [store]);

  const laid = useLayout(stages);
  const layout = laid?.layout;
  const nodes = useMemo<StageFlowNode[]>(
    () =>
      layout
        ? stages.map((stage) => ({
            id: stage.refId,
            type: 'stage',
            position: layout.positions.get(stage.refId) ?? { x: 0, y: 0 },
            data: { stage },
            width: NODE_WIDTH,
            height: NODE_HEIGHT,
            draggable: false,
            selectable: false,
            connectable: false,
            // Not selectable nor draggable, React Flow would let clicks through to the pane.
            style: NODE_STYLE,
          }))
        : [],
    [layout, stages],
  );
  const edges = useMemo<Edge[]>(() => {
    const known = new Set(stages.map((s) => s.refId));
    return stages.flatMap((s) =>
      s.dependsOn
        .filter((d) => known.has(d) && d !== s.refId)
        .map((d) => ({ id: `${d}->${s.refId}`, source: d, target: s.refId, markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 }, focusable: false })),
    );
  }, [stages]);

  const boxRef = useRef<HTMLDivElement>(null);
  const viewport = useMemo(() => (layout && boxRef.current ? initialViewport(layout, { width: boxRef.current.clientWidth, height: boxRef.current.clientHeight }) : null), [layout]);

  const readyRef = useRef(onReady);
  useLayoutEffect(() => {
    readyRef.current = onReady;
  }, [onReady]);
  const instanceRef = useRef<ReactFlowInstance<StageFlowNode> | null>(null);
  // A stage selected from outside (the drawer's URL, the waiting panel) is brought into view.
  const reveal = useCallback(
    (refId: string | null) => {
      const instance = instanceRef.current;
      const box = boxRef.current;
      const at = refId ? layout?.positions.get(refId) : undefined;
      if (!instance || !box || !at) return;
      const { x, y, zoom } = instance.getViewport();
      const left = at.x * zoom + x;
      const top = at.y * zoom + y;
      const inView = left >= 0 && top >= 0 && left + NODE_WIDTH * zoom <= box.clientWidth && top + NODE_HEIGHT * zoom <= box.clientHeight;
      if (!inView) void instance.setCenter(at.x + NODE_WIDTH / 2, at.y + NODE_HEIGHT / 2, { zoom, duration: 200 });
    },
    [layout],
  );
  const selectedRef = useRef(selectedRefId);
  useEffect(() => {
    selectedRef.current = selectedRefId;
    // After the frame: opening the drawer narrows the graph, and React Flow measures that first.
    const frame = requestAnimationFrame(() => reveal(selectedRefId));
    return () => cancelAnimationFrame(frame);
  }, [selectedRefId, reveal]);
  useEffect(() => {
    const box = boxRef.current;
    if (!box || typeof ResizeObserver === 'undefined') return;
    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => reveal(selectedRef.current));
    });
    observer.observe(box);
    return () => {
      observer.disconnect();
      cancelAnimationFrame(frame);
    };
  }, [reveal]);
  const onInit = (instance: ReactFlowInstance<StageFlowNode>) => {
    instanceRef.current = instance;
    if (!viewport) void instance.fitView({ maxZoom: 1, minZoom: MIN_READABLE_ZOOM });
    reveal(selectedRef.current);
    requestAnimationFrame(() => readyRef.current?.());
  };

  return (
    <div className="rg-graph" ref={boxRef} role="group" aria-label={ariaLabel} aria-busy={!layout}>
      {!laid && (
        <div className="rg-overlay" role="status">
          Laying out {stages.length} stage{stages.length === 1 ? '' : 's'}…
        </div>
      )}
      {laid?.error && (
        <div className="rg-overlay rg-error" role="alert">
          Cannot lay out the graph: {laid.error.message}
        </div>
      )}
      {layout && (
        <GraphContext.Provider value={context}>
          <ReactFlow<StageFlowNode, Edge>
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            defaultViewport={viewport ?? undefined}
            onInit={onInit}
            nodesDraggable={false}
            nodesConnectable={false}
            nodesFocusable={false}
            edgesFocusable={false}
            elementsSelectable={false}
            onlyRenderVisibleElements={stages.length > VISIBLE_ONLY_ABOVE}
            minZoom={0.1}
            maxZoom={1.5}
            proOptions={{ hideAttribution: true }}
            zoomOnDoubleClick={false}
          >
            <Background gap={24} size={1} />
            <Controls showInteractive={false} />
          </ReactFlow>
        </GraphContext.Provider>
      )}
    </div>
  );
}
