// The benchmark page: the console's real StageGraph (console/src/ui/run-graph), fed the way the run
// page feeds it: each "delivery" is a whole run as JSON text (what runUpdated sends), parsed, kept
// as the current run, and turned into the stage-state map with one entry per stage.
import { StrictMode, useCallback, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { StageGraph, type GraphStage } from '../../console/src/ui/run-graph';
import '../../console/src/ui/styles.css';

interface StageRun {
  refId: string;
  name: string;
  type: string;
  status: string;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  outputs: unknown;
  error: string | null;
}
interface Run {
  id: string;
  sequence: number;
  stages: StageRun[];
}

const TYPES = ['SOURCE_GITHUB', 'BUILD_HOSTED', 'WEBHOOK', 'DEPLOY', 'JUDGEMENT', 'APPROVAL', 'PRECONDITION', 'SCALE'];

/** A deterministic DAG: mostly chains with fan-out and fan-in, like real pipelines but bigger. */
function pipeline(n: number, variant = 0): GraphStage[] {
  const stages: GraphStage[] = [];
  for (let i = 0; i < n; i++) {
    const deps: string[] = [];
    if (i > 0) deps.push(`s${Math.max(0, i - 1 - ((i * (7 + variant)) % 10))}`);
    if (i % 3 === 0 && i > 5) deps.push(`s${i - 5}`);
    stages.push({ refId: `s${i}`, name: `Stage ${i} ${TYPES[i % TYPES.length].toLowerCase()}`, type: TYPES[i % TYPES.length], dependsOn: [...new Set(deps)] });
  }
  return stages;
}

declare global {
  interface Window {
    bench: {
      n: number;
      /** Every stage drawn and clickable (maybe still in the provisional layout). */
      readyAt: number | null;
      /** ELK's layout drawn. */
      laidOutAt: number | null;
      clickedAt: number | null;
      /** Long tasks (start, duration) on the page's thread since the script started. */
      longTasks: { start: number; duration: number }[];
      deliver: (json: string) => void;
      current: () => Run;
      /** Shows another pipeline of the same size (another structure: laid out anew, worker warm). */
      switchPipeline: (variant: number) => void;
      switchedAt: number | null;
      switchDrawnAt: number | null;
      switchLaidOutAt: number | null;
    };
  }
}

const n = Number(new URLSearchParams(location.search).get('n') ?? 200);
const runOf = (stages: GraphStage[]): Run => ({
  id: 'bench-run',
  sequence: 1,
  stages: stages.map((s) => ({ refId: s.refId, name: s.name, type: s.type, status: 'NOT_STARTED', attempt: 0, startedAt: null, finishedAt: null, outputs: null, error: null })),
});
const first = pipeline(n);

window.bench = {
  n,
  readyAt: null,
  laidOutAt: null,
  clickedAt: null,
  longTasks: [],
  deliver: () => undefined,
  current: () => runOf(first),
  switchPipeline: () => undefined,
  switchedAt: null,
  switchDrawnAt: null,
  switchLaidOutAt: null,
};
try {
  new PerformanceObserver((list) => window.bench.longTasks.push(...list.getEntries().map((e) => ({ start: e.startTime, duration: e.duration })))).observe({ type: 'longtask', buffered: true });
} catch {
  // No long task timing here.
}

function Graph({ stages, run, selected, onOpen, onReady, onLaidOut }: { stages: GraphStage[]; run: Run; selected: string | null; onOpen: (refId: string) => void; onReady: () => void; onLaidOut: () => void }) {
  const states = useMemo(() => new Map(run.stages.map((s) => [s.refId, s])), [run]);
  return <StageGraph stages={stages} states={states} selectedRefId={selected} onOpen={onOpen} onReady={onReady} onLaidOut={onLaidOut} />;
}

function App() {
  const [variant, setVariant] = useState(0);
  const stages = useMemo(() => (variant ? pipeline(n, variant) : first), [variant]);
  const [run, setRun] = useState<Run>(() => runOf(first));
  const [selected, setSelected] = useState<string | null>(null);
  window.bench.switchPipeline = (v: number) => {
    window.bench.switchedAt = performance.now();
    setVariant(v);
    setRun(runOf(pipeline(n, v)));
  };
  window.bench.current = () => run;
  // The run page's path: a delivery replaces the run when its sequence is newer.
  window.bench.deliver = (json: string) => {
    const next = JSON.parse(json) as Run;
    setRun((r) => (next.sequence > r.sequence ? next : r));
  };
  const onOpen = useCallback((refId: string) => {
    window.bench.clickedAt ??= performance.now();
    setSelected(refId);
  }, []);
  const onReady = useCallback(() => {
    if (window.bench.readyAt === null) window.bench.readyAt = performance.now();
    else window.bench.switchDrawnAt = performance.now();
  }, []);
  const onLaidOut = useCallback(() => {
    if (window.bench.laidOutAt === null) window.bench.laidOutAt = performance.now();
    else window.bench.switchLaidOutAt = performance.now();
  }, []);
  return (
    <div style={{ display: 'flex', flexDirection: 'column', height: '100vh' }}>
      <p style={{ margin: 8 }}>
        {n} stages · selected: <output id="selected">{selected ?? 'none'}</output>
      </p>
      <div style={{ flex: 1, minHeight: 0, padding: 8 }}>
        {/* A new pipeline is a new graph, as on the run page (keyed by run). */}
        <Graph key={variant} stages={stages} run={run} selected={selected} onOpen={onOpen} onReady={onReady} onLaidOut={onLaidOut} />
      </div>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
