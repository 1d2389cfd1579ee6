import { Background, Controls, MarkerType, Position, ReactFlow, type Edge, type NodeHandle, type ReactFlowInstance, type Viewport } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { NODE_HEIGHT, NODE_WIDTH, cachedLayout, layoutStages, provisionalLayout, structureSignature, type StageLayout } from './layout';
import { GraphContext, StageStateStore, type GraphContextValue } from './stateStore';
import { StageNode, type StageFlowNode } from './StageNode';
import type { GraphStage, GraphStageState } from './types';
import './run-graph.css';

const nodeTypes = { stage: StageNode };
/** Above this many stages only the nodes and edges in view are in the DOM. */
const VISIBLE_ONLY_ABOVE = 60;
const MIN_READABLE_ZOOM = 0.55;
const NODE_STYLE = { pointerEvents: 'all' } as const;
/**
 * Every node's size and handles (run-graph.css: 6 px handles centred on its left and right edges),
 * given so React Flow draws nodes and edges in the first frame, before it has measured them.
 */
const NODE_MEASURED = { width: NODE_WIDTH, height: NODE_HEIGHT };
const NODE_HANDLES: NodeHandle[] = [
  { type: 'target', position: Position.Left, x: -3, y: NODE_HEIGHT / 2 - 3, width: 6, height: 6 },
  { type: 'source', position: Position.Right, x: NODE_WIDTH - 3, y: NODE_HEIGHT / 2 - 3, width: 6, height: 6 },
];

export interface StageGraphProps {
  /** Every stage of the pipeline revision (structure: laid out once per distinct structure). */
  stages: readonly GraphStage[];
  /** The run's state of each stage by refId; stages missing here are NOT_STARTED. */
  states: ReadonlyMap<string, GraphStageState>;
  selectedRefId?: string | null;
  /** A node was clicked or activated with Enter/Space. */
  onOpen?: (refId: string) => void;
  /** Called once the graph is first drawn (every stage, clickable; maybe in the provisional layout). */
  onReady?: () => void;
  /** Called once ELK's layout is drawn (at once with onReady when it was cached). */
  onLaidOut?: () => void;
  ariaLabel?: string;
}

interface Laid {
  layout: StageLayout;
  /** ELK's layout (false: the provisional one, drawn while ELK works). */
  final: boolean;
  error?: Error;
}

/**
 * The layout to draw: ELK's when it is known at once (cached), else a provisional one computed
 * in the page at once, replaced by ELK's when it arrives (once per structure: status updates
 * never lay out again).
 */
function useLayout(stages: readonly GraphStage[]): Laid {
  const signature = useMemo(() => structureSignature(stages), [stages]);
  // `stages` with the same signature lay out the same: only the signature matters.
  const immediate = useMemo<{ signature: string; laid: Laid }>(() => {
    const cached = cachedLayout(stages, signature);
    return { signature, laid: cached ? { layout: cached, final: true } : { layout: provisionalLayout(stages), final: false } };
  }, [signature]);
  const [elk, setElk] = useState<{ signature: string; layout?: StageLayout; error?: Error } | null>(null);
  useEffect(() => {
    if (immediate.laid.final) return;
    let live = true;
    // After the provisional layout's first frame: loading ELK does not hold up that frame.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => {
        layoutStages(stages, signature).then(
          (layout) => live && setElk({ signature, layout }),
          (error: Error) => live && setElk({ signature, error }),
        );
      }, 0);
    });
    return () => {
      live = false;
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [immediate]);
  if (elk?.signature !== signature || immediate.laid.final) return immediate.laid;
  return elk.layout ? { layout: elk.layout, final: true } : { ...immediate.laid, error: elk.error };
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
 * once per structure and drawn with React Flow. Every stage is drawn and clickable from the first
 * frame: until ELK's layout arrives (from its worker; at once when cached) in a provisional layered
 * layout computed in the page, then moved to ELK's positions once (the view follows unless the
 * person moved it; a focused or selected node stays in view). Run updates go through a
 * StageStateStore that re-renders only the nodes whose stage changed; nodes, edges and layout stay
 * as they are.
 */
export function StageGraph({ stages, states, selectedRefId = null, onOpen, onReady, onLaidOut, ariaLabel = 'Stage graph' }: StageGraphProps) {
  const [store] = useState(() => new StageStateStore(states, selectedRefId));
  useLayoutEffect(() => void store.update(states), [store, states]);
  useLayoutEffect(() => store.select(selectedRefId), [store, selectedRefId]);

  const onOpenRef = useRef(onOpen);
  useLayoutEffect(() => {
    onOpenRef.current = onOpen;
  }, [onOpen]);
  const context = useMemo<GraphContextValue>(() => ({ store, open: (refId) => onOpenRef.current?.(refId) }), [store]);

  const laid = useLayout(stages);
  const { layout, final } = laid;
  const nodes = useMemo<StageFlowNode[]>(
    () =>
      stages.map((stage) => ({
        id: stage.refId,
        type: 'stage',
        position: layout.positions.get(stage.refId) ?? { x: 0, y: 0 },
        data: { stage },
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        measured: NODE_MEASURED,
        handles: NODE_HANDLES,
        draggable: false,
        selectable: false,
        connectable: false,
        // Not selectable nor draggable, React Flow would let clicks through to the pane.
        style: NODE_STYLE,
      })),
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
  // The box's size, read before the first paint: the first viewport depends on it.
  const [box, setBox] = useState<{ width: number; height: number } | null>(null);
  useLayoutEffect(() => {
    const el = boxRef.current;
    if (el) setBox({ width: el.clientWidth, height: el.clientHeight });
  }, []);
  const firstLayout = useRef(layout);
  const viewport = useMemo(() => (box ? initialViewport(firstLayout.current, box) : null), [box]);

  const readyRef = useRef(onReady);
  const laidOutRef = useRef(onLaidOut);
  useLayoutEffect(() => {
    readyRef.current = onReady;
    laidOutRef.current = onLaidOut;
  }, [onReady, onLaidOut]);
  const instanceRef = useRef<ReactFlowInstance<StageFlowNode> | null>(null);
  // Whether the person moved the view (then ELK's layout arriving does not move it back).
  const movedRef = useRef(false);
  const onMoveStart = useCallback((event: MouseEvent | TouchEvent | null) => {
    if (event) movedRef.current = true;
  }, []);
  const onControl = useCallback(() => {
    movedRef.current = true;
  }, []);
  // A stage selected from outside (the drawer's URL, the waiting panel) is brought into view.
  const reveal = useCallback(
    (refId: string | null, duration = 200) => {
      const instance = instanceRef.current;
      const box = boxRef.current;
      const at = refId ? layout.positions.get(refId) : undefined;
      if (!instance || !box || !at) return;
      const { x, y, zoom } = instance.getViewport();
      const left = at.x * zoom + x;
      const top = at.y * zoom + y;
      const inView = left >= 0 && top >= 0 && left + NODE_WIDTH * zoom <= box.clientWidth && top + NODE_HEIGHT * zoom <= box.clientHeight;
      if (!inView) void instance.setCenter(at.x + NODE_WIDTH / 2, at.y + NODE_HEIGHT / 2, { zoom, duration });
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

  // ELK's layout replacing the provisional one: the view follows it unless the person moved it,
  // and a selected stage stays in view.
  const layoutRef = useRef(layout);
  useLayoutEffect(() => {
    layoutRef.current = layout;
  }, [layout]);
  const followLayout = useCallback((instance: ReactFlowInstance<StageFlowNode>) => {
    const el = boxRef.current;
    if (movedRef.current || !el) return;
    const v = initialViewport(layoutRef.current, { width: el.clientWidth, height: el.clientHeight });
    if (v) void instance.setViewport(v);
    else void instance.fitView({ maxZoom: 1, minZoom: MIN_READABLE_ZOOM });
  }, []);
  const [settling, setSettling] = useState(false);
  const finalShown = useRef<StageLayout | null>(final ? layout : null);
  useEffect(() => {
    if (!final || finalShown.current === layout) return;
    finalShown.current = layout;
    const instance = instanceRef.current;
    if (instance) followLayout(instance);
    // A focused node stays in view (React Flow would drop it from the DOM, and its focus with it),
    // so a keyboard user keeps their place; else the selected one is brought into view.
    const box = boxRef.current;
    const active = document.activeElement;
    const focused = box && active instanceof HTMLElement && box.contains(active) ? (active.dataset.refid ?? null) : null;
    if (box && focused) {
      reveal(focused, 0);
      let frames = 10;
      const keepFocus = () => {
        if (box.contains(document.activeElement)) return;
        const el = box.querySelector<HTMLElement>(`[data-refid="${CSS.escape(focused)}"]`);
        if (el && document.activeElement === document.body) el.focus({ preventScroll: true });
        else if (!el && --frames > 0) requestAnimationFrame(keepFocus);
      };
      requestAnimationFrame(keepFocus);
    } else reveal(selectedRef.current);
    setSettling(true);
    requestAnimationFrame(() => {
      performance.mark?.('stage-graph laid out');
      laidOutRef.current?.();
    });
  }, [final, layout, reveal, followLayout]);
  useEffect(() => {
    if (!settling) return;
    const timer = setTimeout(() => setSettling(false), 400);
    return () => clearTimeout(timer);
  }, [settling]);

  const onInit = (instance: ReactFlowInstance<StageFlowNode>) => {
    instanceRef.current = instance;
    if (!viewport || layoutRef.current !== firstLayout.current) followLayout(instance);
    reveal(selectedRef.current);
    const cached = finalShown.current === firstLayout.current;
    requestAnimationFrame(() => {
      performance.mark?.('stage-graph drawn');
      readyRef.current?.();
      if (cached) {
        performance.mark?.('stage-graph laid out');
        laidOutRef.current?.();
      }
    });
  };

  return (
    <div className={`rg-graph${settling ? ' rg-settling' : ''}`} ref={boxRef} role="group" aria-label={ariaLabel} aria-busy={!final}>
      {!final && !laid.error && (
        <div className="rg-arranging" role="status">
          Arranging {stages.length} stage{stages.length === 1 ? '' : 's'}…
        </div>
      )}
      {laid.error && (
        <div className="rg-arranging rg-error" role="alert">
          Cannot lay out the graph: {laid.error.message} (drawn in columns by dependency instead)
        </div>
      )}
      {box && (
        <GraphContext.Provider value={context}>
          <ReactFlow<StageFlowNode, Edge>
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            defaultViewport={viewport ?? undefined}
            onInit={onInit}
            onMoveStart={onMoveStart}
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
            <Controls showInteractive={false} onZoomIn={onControl} onZoomOut={onControl} onFitView={onControl} />
          </ReactFlow>
        </GraphContext.Provider>
      )}
    </div>
  );
}
