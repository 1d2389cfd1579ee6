// The benchmark page for the build-log viewer: the console's real LogViewer (console/src/ui/log-view),
// fed the way LogView feeds it from the buildLog subscription (lines appended to a LineStore in
// batches, the phase "streaming" until the last batch, then "complete"), from a synthetic source:
// `?lines=100000&batch=2500&interval=50` (interval in ms, or `frame`: a batch per animation frame).
// The lines are made before the stream starts, so only the viewer's work is timed.
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { LineStore } from '../../../console/src/ui/log-view/lineStore';
import { LogViewer } from '../../../console/src/ui/log-view/LogViewer';
import type { LogPhase } from '../../../console/src/ui/log-view/useBuildLog';
import '../../../console/src/ui/styles.css';

const E = '\u001b';
const COLOURS = [31, 32, 33, 34, 35, 36, 90];

/** A build-tool line with ANSI colours: timestamps, coloured steps, 256-colour marks, some errors and long warnings. */
function line(i: number): string {
  if (i % 997 === 0) return `${E}[1;31mERROR${E}[0m step ${i}: something failed at ${E}[4m/src/app/${i}.ts${E}[24m`;
  if (i % 101 === 0) return `${E}[33mwarning${E}[0m: ${'long line '.repeat(40)}end ${i}`;
  const c = COLOURS[i % COLOURS.length];
  return `${E}[90m${new Date(1700000000000 + i * 37).toISOString()}${E}[0m ${E}[${c}mstep ${i}${E}[0m\tcompiling module_${i % 513}.ts ${E}[38;5;${16 + (i % 216)}m■${E}[0m ok`;
}

const params = new URLSearchParams(location.search);
const TOTAL = Number(params.get('lines') ?? 100_000);
const BATCH = Number(params.get('batch') ?? 2_500);
const INTERVAL = params.get('interval') ?? '50';

export interface BenchState {
  total: number;
  batch: number;
  interval: string;
  store: LineStore;
  /** Bytes of the lines as sent (UTF-16 code units, escape codes included). */
  chars: number;
  /** performance.now() of the first and the last batch appended. */
  firstAppendAt: number | null;
  lastAppendAt: number | null;
  /** Time spent in LineStore.append over all batches. */
  appendMs: number;
  batches: number;
  done: boolean;
  longTasks: { start: number; duration: number }[];
}

const lines = Array.from({ length: TOTAL }, (_, i) => line(i));
const bench: BenchState = {
  total: TOTAL,
  batch: BATCH,
  interval: INTERVAL,
  store: new LineStore(),
  chars: lines.reduce((a, l) => a + l.length + 1, 0),
  firstAppendAt: null,
  lastAppendAt: null,
  appendMs: 0,
  batches: 0,
  done: false,
  longTasks: [],
};
declare global {
  interface Window {
    bench: BenchState;
  }
}
window.bench = bench;
try {
  new PerformanceObserver((list) => bench.longTasks.push(...list.getEntries().map((e) => ({ start: e.startTime, duration: e.duration })))).observe({ type: 'longtask', buffered: true });
} catch {
  /* not supported */
}

function Bench() {
  const [state, setState] = useState<LogPhase>({ phase: 'connecting' });
  useEffect(() => {
    let sent = 0;
    let cancel: () => void = () => undefined;
    const schedule = (f: () => void) => {
      if (INTERVAL === 'frame') {
        const id = requestAnimationFrame(f);
        cancel = () => cancelAnimationFrame(id);
      } else {
        const id = window.setTimeout(f, Number(INTERVAL));
        cancel = () => clearTimeout(id);
      }
    };
    const tick = () => {
      const n = Math.min(BATCH, TOTAL - sent);
      const t0 = performance.now();
      bench.firstAppendAt ??= t0;
      bench.store.append(lines.slice(sent, sent + n));
      sent += n;
      bench.batches++;
      if (sent >= TOTAL) {
        bench.store.flush();
        bench.lastAppendAt = t0;
        bench.appendMs += performance.now() - t0;
        bench.done = true;
        setState({ phase: 'complete' });
      } else {
        bench.appendMs += performance.now() - t0;
        setState((s) => (s.phase === 'streaming' ? s : { phase: 'streaming' }));
        schedule(tick);
      }
    };
    // Started by the driver (window.benchStart), once it is recording frames.
    (window as unknown as { benchStart: () => void }).benchStart = () => schedule(tick);
    return () => cancel();
  }, []);
  return (
    <div style={{ height: '100vh', display: 'flex', padding: 12, boxSizing: 'border-box' }}>
      <LogViewer store={bench.store} state={state} defaultFollow fileName="bench.log" />
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Bench />
  </StrictMode>,
);
