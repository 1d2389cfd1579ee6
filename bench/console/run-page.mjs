#!/usr/bin/env node
// `node bench/console/run-page.mjs [--sizes 200,2000] [--rate 50] [--seconds 10] [--cold-runs 3]`
// Console speed: the run page's StageGraph (console/src/ui/run-graph, the real component) in Debian's
// chromium, on a bench page built with vite from bench/console/entry.tsx and fed synthetic runs:
//   1. navigation -> every stage drawn -> a node clicked and its click handled -> ELK's layout drawn
//      (200 and 2,000 stages; the cold load --cold-runs times, each in a new browser context)
//   2. 50 stage status events/s for 10 s, each a whole run as JSON (what runUpdated delivers):
//      event -> node showing the new status (p50/p99), frame times, long tasks
//   3. JS heap after the first click and after the events
//   4. the console's bundle size (gzip) from console/dist/assets
// Prints a table and writes bench/results/console.json. Figures, not a test: nothing is asserted.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { arg, benchPage, heapMb, launchChromium, pct, repo, round, serveDir } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const say = (m) => console.error(`[bench:console] ${m}`);
const SIZES = arg('sizes', '200,2000').split(',').map(Number);
const RATE = Number(arg('rate', 50));
const SECONDS = Number(arg('seconds', 10));
const COLD_RUNS = Math.max(1, Number(arg('cold-runs', 3)));
const DEFAULT_OUT_DIR = '/tmp/pw-bench-console';
const started = Date.now();


// 1. The console itself (for its bundle size), then the bench page with the real StageGraph.
if (process.argv.includes('--skip-console-build')) say('console build skipped: the bundle figures are of console/dist as it is');
else say('building the console (--if-stale)');
if (!process.argv.includes('--skip-console-build')) execFileSync('node', [join(repo, 'console', 'scripts', 'build.mjs'), '--if-stale'], { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
// `--page-dir DIR`: a bench page built elsewhere (e.g. from another version of run-graph, to compare).
const PAGE_DIR = arg('page-dir', null);
const OUT_DIR = PAGE_DIR ?? DEFAULT_OUT_DIR;
await benchPage({ root: here, outDir: OUT_DIR, pageDir: PAGE_DIR, say });

/**
 * The console's bundle: every .js/.css of console/dist/assets, and those index.html loads at start
 * (its script, stylesheet and modulepreloads: the rest, e.g. ELK, loads when first needed).
 */
function bundleSize() {
  const dir = join(repo, 'console', 'dist', 'assets');
  const files = readdirSync(dir).filter((f) => /\.(js|css)$/.test(f));
  const html = readFileSync(join(repo, 'console', 'dist', 'index.html'), 'utf8');
  const atStart = new Set([...html.matchAll(/(?:src|href)="[^"]*\/assets\/([^"]+)"/g)].map((m) => m[1]));
  const rows = files.map((f) => {
    const buf = readFileSync(join(dir, f));
    return { file: f, bytes: buf.length, gzipBytes: gzipSync(buf, { level: 9 }).length, atStart: atStart.has(f) };
  });
  const sum = (xs, k) => xs.reduce((a, r) => a + r[k], 0);
  const start = rows.filter((r) => r.atStart);
  return {
    files: rows.sort((a, b) => b.gzipBytes - a.gzipBytes),
    totalKb: round(sum(rows, 'bytes') / 1024),
    totalGzipKb: round(sum(rows, 'gzipBytes') / 1024),
    atStartKb: round(sum(start, 'bytes') / 1024),
    atStartGzipKb: round(sum(start, 'gzipBytes') / 1024),
    // ELK's worker script and its API: loaded when the first graph is laid out (or the runs pages open).
    elkWorkerGzipKb: round(sum(rows.filter((r) => /^elk-(worker|api)/.test(r.file)), 'gzipBytes') / 1024),
    // ELK for the page's own thread: only where there is no Worker (never in a browser that has one).
    elkBundledGzipKb: round(sum(rows.filter((r) => /^elk\.bundled/.test(r.file)), 'gzipBytes') / 1024),
  };
}

const { base, close: closeServer } = await serveDir(OUT_DIR);
const browser = await launchChromium();

/** In the page: RATE events/s for SECONDS to the nodes in view, measuring event -> node showing it. */
async function pump(page) {
  return page.evaluate(
    async ({ rate, seconds }) => {
      const box = document.querySelector('.rg-graph').getBoundingClientRect();
      const inView = [...document.querySelectorAll('.rg-node[data-refid]')]
        .filter((el) => {
          const r = el.getBoundingClientRect();
          return r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
        })
        .map((el) => el.dataset.refid);
      const all = window.bench.current().stages.map((s) => s.refId);
      const targets = inView.length ? inView : all;
      const pending = new Map();
      const commitLags = [];
      const paintLags = [];
      const mo = new MutationObserver((records) => {
        const now = performance.now();
        for (const r of records) {
          const el = r.target;
          const p = pending.get(el.dataset.refid);
          if (p && el.dataset.status === p.status) {
            pending.delete(el.dataset.refid);
            commitLags.push(now - p.t0);
            requestAnimationFrame(() => paintLags.push(performance.now() - p.t0));
          }
        }
      });
      mo.observe(document.querySelector('.rg-graph'), { subtree: true, attributes: true, attributeFilter: ['data-status'] });
      const frames = [];
      let last = performance.now();
      let framing = true;
      const frame = (t) => {
        frames.push(t - last);
        last = t;
        if (framing) requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
      const longTasks = [];
      const po = new PerformanceObserver((list) => longTasks.push(...list.getEntries().map((e) => e.duration)));
      try {
        po.observe({ type: 'longtask', buffered: false });
      } catch {
        /* not supported */
      }
      // The run as the server would send it: every stage, one changed per event.
      const run = JSON.parse(JSON.stringify(window.bench.current()));
      const cycle = ['RUNNING', 'SUCCEEDED', 'RUNNING', 'FAILED', 'WAITING'];
      let sent = 0;
      let overwritten = 0;
      const total = rate * seconds;
      await new Promise((resolve) => {
        const timer = setInterval(() => {
          const refId = targets[sent % targets.length];
          const i = run.stages.findIndex((s) => s.refId === refId);
          const s = run.stages[i];
          const status = cycle[(cycle.indexOf(s.status) + 1) % cycle.length];
          const now = new Date().toISOString();
          run.stages[i] = { ...s, status, attempt: status === 'RUNNING' ? s.attempt + 1 : s.attempt, startedAt: status === 'RUNNING' ? now : s.startedAt, finishedAt: status === 'RUNNING' || status === 'WAITING' ? null : now };
          run.sequence += 1;
          const json = JSON.stringify(run);
          if (pending.has(refId)) overwritten++;
          pending.set(refId, { status, t0: performance.now() });
          window.bench.deliver(json);
          if (++sent >= total) {
            clearInterval(timer);
            resolve();
          }
        }, 1000 / rate);
      });
      await new Promise((r) => setTimeout(r, 500));
      framing = false;
      mo.disconnect();
      po.disconnect();
      const runBytes = JSON.stringify(run).length;
      return { sent, shown: commitLags.length, notShown: pending.size, overwritten, targets: targets.length, commitLags, paintLags, frames: frames.slice(1), longTasks, runBytes };
    },
    { rate: RATE, seconds: SECONDS },
  );
}

/**
 * Navigation -> a node wholly in view -> clicked -> its click handled; then waits for ELK's layout
 * to be drawn (the graph may first be drawn in the provisional layout).
 */
async function loadAndClick(page, url) {
  const t0 = Date.now();
  await page.goto(url);
  // The first node wholly in view, as soon as it is drawn and has stayed put for a frame: its centre,
  // clicked there with the mouse (a real input event, hit-tested by the browser).
  const handle = await page.waitForFunction(
    () => {
      const graph = document.querySelector('.rg-graph');
      if (!graph) return null;
      const box = graph.getBoundingClientRect();
      for (const e of document.querySelectorAll('.rg-node[data-refid]')) {
        const r = e.getBoundingClientRect();
        if (r.width > 0 && r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom) {
          const at = { refId: e.dataset.refid, x: r.left + r.width / 2, y: r.top + r.height / 2 };
          const before = window.benchSeen;
          window.benchSeen = at;
          return before && before.refId === at.refId && before.x === at.x && before.y === at.y ? at : null;
        }
      }
      return null;
    },
    null,
    { timeout: 90_000, polling: 'raf' },
  );
  const at = await handle.jsonValue();
  const nodeSeenMs = Date.now() - t0;
  await page.mouse.click(at.x, at.y);
  await page.waitForFunction(() => document.getElementById('selected')?.textContent !== 'none', null, { timeout: 30_000, polling: 'raf' });
  const driverMs = Date.now() - t0;
  await page.waitForFunction(() => window.bench.laidOutAt !== null, null, { timeout: 90_000, polling: 100 });
  const inPage = await page.evaluate(() => ({
    readyAt: window.bench.readyAt,
    laidOutAt: window.bench.laidOutAt,
    clickedAt: window.bench.clickedAt,
    layoutMs: performance.getEntriesByType('measure').find((m) => m.name.startsWith('stage-graph layout'))?.duration ?? null,
    domNodes: document.querySelectorAll('.rg-node').length,
    longTasks: window.bench.longTasks,
  }));
  const before = (t) => inPage.longTasks.filter((l) => l.start < t);
  const longest = (xs) => (xs.length ? Math.max(...xs.map((l) => l.duration)) : 0);
  return {
    graphDrawnMs: round(inPage.readyAt),
    clickHandledMs: round(inPage.clickedAt),
    elkLayoutDrawnMs: round(inPage.laidOutAt),
    layoutMs: round(inPage.layoutMs),
    driverNavigationToClickMs: driverMs,
    driverNodeSeenMs: nodeSeenMs,
    nodesInDom: inPage.domNodes,
    longTasksUntilClick: before(inPage.clickedAt).length,
    longestTaskUntilClickMs: round(longest(before(inPage.clickedAt))),
    longTasksUntilLaidOut: before(inPage.laidOutAt + 1).length,
    longestTaskUntilLaidOutMs: round(longest(before(inPage.laidOutAt + 1))),
  };
}

/** A cold load alone: a new browser context (empty cache and localStorage, no worker), first navigation. */
async function coldLoad(n) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => say(`page exception: ${e.message}`));
    return await loadAndClick(page, `${base}?n=${n}`);
  } finally {
    await context.close();
  }
}

const median = (xs) => pct(xs.filter((x) => x !== null), 50);
function coldSummary(runs) {
  const pick = (k) => runs.map((r) => r[k]);
  return {
    runs: runs.length,
    graphDrawnMs: pick('graphDrawnMs'),
    clickHandledMs: pick('clickHandledMs'),
    elkLayoutDrawnMs: pick('elkLayoutDrawnMs'),
    layoutMs: pick('layoutMs'),
    medianGraphDrawnMs: median(pick('graphDrawnMs')),
    medianClickHandledMs: median(pick('clickHandledMs')),
    maxClickHandledMs: Math.max(...pick('clickHandledMs')),
    medianElkLayoutDrawnMs: median(pick('elkLayoutDrawnMs')),
  };
}

async function scenario(n) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => say(`page exception: ${e.message}`));
  say(`${n} stages: cold load (new browser context: no cached layout, worker not started)`);
  const cold = await loadAndClick(page, `${base}?n=${n}`);
  // Only now: DevTools' Performance domain (for the heap figures) would slow the cold load down.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  if (n <= 500) await page.screenshot({ path: `/tmp/pw-bench-console-${n}.png` });
  const heapAfterLoadMb = await heapMb(cdp);
  say(`${n} stages: ${RATE} events/s for ${SECONDS} s`);
  const p = await pump(page);
  const heapAfterEventsMb = await heapMb(cdp);
  say(`${n} stages: another pipeline of that size in the same page (worker warm)`);
  const switched = await page.evaluate(async () => {
    window.bench.switchPipeline(1);
    const until = performance.now() + 90_000;
    while ((window.bench.switchDrawnAt === null || window.bench.switchLaidOutAt === null) && performance.now() < until) await new Promise((r) => requestAnimationFrame(r));
    const since = (t) => (t === null ? null : t - window.bench.switchedAt);
    return { drawnMs: since(window.bench.switchDrawnAt), elkLayoutDrawnMs: since(window.bench.switchLaidOutAt) };
  });
  say(`${n} stages: reload (layout kept in localStorage)`);
  const reload = await loadAndClick(page, `${base}?n=${n}`);
  await context.close();
  const colds = [cold];
  for (let i = 1; i < COLD_RUNS; i++) {
    say(`${n} stages: cold load ${i + 1}/${COLD_RUNS} (new browser context)`);
    colds.push(await coldLoad(n));
  }
  const long = p.longTasks;
  return {
    stages: n,
    interactive: cold,
    cold: coldSummary(colds),
    warmWorkerNewStructure: { drawnMs: round(switched.drawnMs), elkLayoutDrawnMs: round(switched.elkLayoutDrawnMs) },
    reload,
    events: {
      ratePerSecond: RATE,
      seconds: SECONDS,
      sent: p.sent,
      shown: p.shown,
      notShown: p.notShown,
      overwrittenBeforeShown: p.overwritten,
      nodesTargeted: p.targets,
      runJsonKb: round(p.runBytes / 1024),
      eventToDomP50Ms: round(pct(p.commitLags, 50)),
      eventToDomP99Ms: round(pct(p.commitLags, 99)),
      eventToFrameP50Ms: round(pct(p.paintLags, 50)),
      eventToFrameP99Ms: round(pct(p.paintLags, 99)),
      frameP50Ms: round(pct(p.frames, 50)),
      frameP99Ms: round(pct(p.frames, 99)),
      frameMaxMs: round(Math.max(...p.frames)),
      framesOver50Ms: p.frames.filter((f) => f > 50).length,
      frames: p.frames.length,
      longTasks: long.length,
      longTaskTotalMs: round(long.reduce((a, b) => a + b, 0)),
    },
    heap: { afterLoadMb: heapAfterLoadMb, afterEventsMb: heapAfterEventsMb },
  };
}

const results = { date: new Date().toISOString(), machine: { cpus: cpus().length, loadAverageAtStart: loadavg().map((x) => round(x, 2)), browser: `chromium ${browser.version()}`, viewport: '1280x800' }, scenarios: [], bundle: null };
try {
  for (const n of SIZES) results.scenarios.push(await scenario(n));
} finally {
  await browser.close();
  closeServer();
}
results.bundle = bundleSize();
results.totalSeconds = round((Date.now() - started) / 1000);
results.machine.loadAverageAtEnd = loadavg().map((x) => round(x, 2));

const table = [
  ['stages', 'cold: drawn/click/ELK drawn ms', `cold click ms (${COLD_RUNS} runs)`, 'warm worker: drawn/ELK ms', 'reload: drawn/click ms', 'ev→DOM p50/p99', 'ev→frame p50/p99', 'frame p50/p99/max', 'long tasks', 'heap MB load/events'],
  ...results.scenarios.map((s) => [
    s.stages,
    `${s.interactive.graphDrawnMs}/${s.interactive.clickHandledMs}/${s.interactive.elkLayoutDrawnMs}`,
    `${s.cold.clickHandledMs.join(', ')} (median ${s.cold.medianClickHandledMs})`,
    `${s.warmWorkerNewStructure.drawnMs}/${s.warmWorkerNewStructure.elkLayoutDrawnMs}`,
    `${s.reload.graphDrawnMs}/${s.reload.clickHandledMs}`,
    `${s.events.eventToDomP50Ms}/${s.events.eventToDomP99Ms}`,
    `${s.events.eventToFrameP50Ms}/${s.events.eventToFrameP99Ms}`,
    `${s.events.frameP50Ms}/${s.events.frameP99Ms}/${s.events.frameMaxMs}`,
    `${s.events.longTasks} (${s.events.longTaskTotalMs} ms)`,
    `${s.heap.afterLoadMb}/${s.heap.afterEventsMb}`,
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((r) => String(r[i]).length)));
for (const row of table) console.log(row.map((c, i) => String(c).padEnd(widths[i])).join('  '));
const b = results.bundle;
console.log(`\nconsole bundle: ${b.totalKb} KB, ${b.totalGzipKb} KB gzip; loaded at start ${b.atStartKb} KB, ${b.atStartGzipKb} KB gzip; ELK worker + API (loaded with the first graph) ${b.elkWorkerGzipKb} KB gzip; elk.bundled (only where there is no Worker) ${b.elkBundledGzipKb} KB gzip`);
for (const f of b.files.slice(0, 6)) console.log(`  ${f.file}: ${round(f.bytes / 1024)} KB, ${round(f.gzipBytes / 1024)} KB gzip${f.atStart ? ' (at start)' : ''}`);
for (const s of results.scenarios) console.log(`events ${s.stages}: ${s.events.sent} sent to ${s.events.nodesTargeted} nodes in view, ${s.events.shown} shown, ${s.events.notShown} not shown, run JSON ${s.events.runJsonKb} KB`);
console.log(`total ${results.totalSeconds} s`);

const outDir = arg('out-dir', join(repo, 'bench', 'results'));
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'console.json'), JSON.stringify(results, null, 2) + '\n');
say(`wrote bench/results/console.json`);
