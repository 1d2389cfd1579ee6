#!/usr/bin/env node
// `node bench/console/log-view.mjs [--lines 100000] [--batch 2500] [--intervals 50,frame] [--seconds 2.5]`
// Console speed: a build's log in the console's real LogViewer (console/src/ui/log-view) in Debian's
// chromium, on a bench page built with vite from bench/console/log-view/ and fed a synthetic build log
// (100,000 lines with ANSI colours) in batches, as the buildLog subscription delivers them:
//   1. ingest while following: first batch -> the last line drawn at the bottom of the view; in every
//      frame, whether the last row drawn is the last line published; frame times, long tasks
//      (once per --intervals entry: ms between batches, or `frame` for a batch per animation frame)
//   2. rows in the DOM; JS heap after the load (forced GC)
//   3. scrolling, each for --seconds: mouse wheel (real input events), steps (scrollTop += 270 px a frame)
//      and jumps to random offsets (one a frame): frame times p50/p95/p99/max, frames whose view was not
//      covered by drawn rows, script/layout time per frame
//   4. search over all lines (a rare and a frequent term): typing -> counter and current match in view;
//      Next / Previous jumps
// Prints a table and writes bench/results/console-log.json. Figures, not a test: nothing is asserted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, benchPage, heapMb, launchChromium, pct, repo, round, serveDir } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const say = (m) => console.error(`[bench:console-log] ${m}`);
const LINES = Number(arg('lines', 100_000));
const BATCH = Number(arg('batch', 2_500));
const INTERVALS = arg('intervals', '50,frame').split(',');
const SECONDS = Number(arg('seconds', 2.5));
const started = Date.now();
const loadAtStart = loadavg().map((x) => round(x, 2));

const frameStats = (xs) => ({ frames: xs.length, p50Ms: round(pct(xs, 50)), p95Ms: round(pct(xs, 95)), p99Ms: round(pct(xs, 99)), maxMs: round(xs.length ? Math.max(...xs) : null), over50Ms: xs.filter((f) => f > 50).length });

// 1. The bench page: the real LogViewer, built into /tmp (or `--page-dir DIR`: a page built elsewhere, to compare).
const PAGE_DIR = arg('page-dir', null);
const OUT_DIR = PAGE_DIR ?? '/tmp/pw-bench-console-log';
await benchPage({ root: join(here, 'log-view'), outDir: OUT_DIR, pageDir: PAGE_DIR, say });

const { base, close: closeServer } = await serveDir(OUT_DIR);
const browser = await launchChromium();

async function cdpTimes(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  return { script: m.ScriptDuration, layout: m.LayoutDuration, style: m.RecalcStyleDuration, task: m.TaskDuration };
}

/**
 * Installed in the page: `window.lv` with what the driver reads every frame. Rows are absolutely placed
 * at index * ROW_HEIGHT in index order, so the first and last drawn rows tell what the view covers.
 */
function installHelpers() {
  const ROW = 18;
  const box = () => document.querySelector('[role=log]');
  const rowNo = (row) => (row ? Number(row.querySelector('.log-lineno').textContent) : 0);
  const drawn = () => {
    const sizer = box().querySelector('.log-sizer');
    return { rows: sizer ? sizer.childElementCount : 0, first: rowNo(sizer?.firstElementChild), last: rowNo(sizer?.lastElementChild) };
  };
  /** Every line the view shows (even partly) is drawn. */
  const covered = () => {
    const el = box();
    const d = drawn();
    const count = window.bench.store.length;
    const top = Math.floor(el.scrollTop / ROW);
    const bottom = Math.min(count - 1, Math.floor((el.scrollTop + el.clientHeight - 1) / ROW));
    return d.rows > 0 && d.first - 1 <= top && d.last - 1 >= bottom;
  };
  const atBottom = () => {
    const el = box();
    return el.scrollHeight - el.scrollTop - el.clientHeight <= 1;
  };
  window.lv = { ROW, box, drawn, covered, atBottom };
}

/** In the page: starts the stream and samples every frame until the last line is drawn at the bottom. */
async function ingest(page) {
  return page.evaluate(async () => {
    const { bench, lv } = window;
    const frames = [];
    const samples = { frames: 0, lastRowIsLastPublished: 0, atBottom: 0, maxLinesBehindReceived: 0, maxRows: 0 };
    let last = performance.now();
    const t0 = last;
    let shownAt = null;
    let after = 0;
    await new Promise((resolve) => {
      const frame = (t) => {
        frames.push(t - last);
        last = t;
        const published = bench.store.length;
        if (published > 0) {
          const d = lv.drawn();
          const bottom = lv.atBottom();
          samples.frames++;
          if (d.last === published) samples.lastRowIsLastPublished++;
          if (bottom) samples.atBottom++;
          samples.maxLinesBehindReceived = Math.max(samples.maxLinesBehindReceived, bench.store.receivedLength - d.last);
          samples.maxRows = Math.max(samples.maxRows, d.rows);
          if (shownAt === null && bench.done && d.last === bench.total && bottom) shownAt = performance.now();
        }
        if (shownAt !== null && ++after > 10) return resolve();
        if (performance.now() - t0 > 60_000) return resolve();
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
      window.benchStart();
    });
    const el = lv.box();
    const lastRow = el.querySelector('.log-sizer').lastElementChild;
    const r = lastRow.getBoundingClientRect();
    const b = el.getBoundingClientRect();
    const follow = document.querySelector('button.log-follow').getAttribute('aria-pressed') === 'true';
    return {
      frames: frames.slice(1),
      samples,
      firstAppendAt: bench.firstAppendAt,
      lastAppendAt: bench.lastAppendAt,
      shownAt,
      appendMs: bench.appendMs,
      batches: bench.batches,
      chars: bench.chars,
      longTasks: bench.longTasks.filter((l) => l.start >= t0).map((l) => ({ at: l.start - bench.firstAppendAt, ms: l.duration })),
      end: {
        lastRow: Number(lastRow.querySelector('.log-lineno').textContent),
        lastRowInView: r.top >= b.top && r.bottom <= b.top + el.clientTop + el.clientHeight,
        lastRowText: lastRow.querySelector('.log-line').textContent.slice(0, 60),
        follow,
        rows: el.querySelectorAll('.log-row').length,
        elements: el.querySelectorAll('*').length,
        status: document.querySelector('[role=status]').textContent,
      },
    };
  });
}

/** In the page: frame times from now until `window.lv.stop()`; `step` (if any) runs in each frame. */
function record(page, mode) {
  return page.evaluate((mode) => {
    const { lv } = window;
    const el = lv.box();
    const rec = { frames: [], uncovered: 0, blankAtPaint: 0, maxRows: 0, moves: 0 };
    let last = performance.now();
    let on = true;
    const frame = (t) => {
      rec.frames.push(t - last);
      last = t;
      // After this frame's scroll events were handled: are the lines in view drawn?
      if (!lv.covered()) rec.uncovered++;
      rec.maxRows = Math.max(rec.maxRows, lv.drawn().rows);
      if (mode === 'step' || mode === 'jump') {
        el.scrollTop = mode === 'step' ? el.scrollTop + 270 : Math.floor(Math.random() * (el.scrollHeight - el.clientHeight));
        rec.moves++;
        // What this frame paints: the new offset with the rows drawn so far (the scroll event comes next frame).
        if (!lv.covered()) rec.blankAtPaint++;
      }
      if (on) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    lv.stop = () => {
      on = false;
      return { ...rec, frames: rec.frames.slice(1), line: Math.floor(el.scrollTop / lv.ROW) + 1 };
    };
  }, mode);
}

async function scroll(page, cdp, mode) {
  await page.evaluate(() => {
    window.lv.box().scrollTop = 0;
  });
  await page.waitForTimeout(200);
  const a = await cdpTimes(cdp);
  await record(page, mode);
  const until = Date.now() + SECONDS * 1000;
  let wheels = 0;
  if (mode === 'wheel') {
    await page.mouse.move(640, 400);
    while (Date.now() < until) {
      await page.mouse.wheel(0, 240);
      wheels++;
    }
  } else await page.waitForTimeout(SECONDS * 1000);
  const rec = await page.evaluate(() => window.lv.stop());
  const b = await cdpTimes(cdp);
  const per = (k) => round(((b[k] - a[k]) * 1000) / Math.max(1, rec.frames.length), 2);
  return {
    mode,
    ...frameStats(rec.frames),
    uncoveredFrames: rec.uncovered,
    blankAtPaintFrames: mode === 'wheel' ? null : rec.blankAtPaint,
    moves: mode === 'wheel' ? wheels : rec.moves,
    reachedLine: rec.line,
    maxRows: rec.maxRows,
    perFrameMs: { script: per('script'), layout: per('layout'), style: per('style'), task: per('task') },
  };
}

/** In the page: types `term` into "Search log" -> the counter says "1 of N" and the current match is in view. */
async function search(page, term) {
  return page.evaluate(async (term) => {
    const { lv } = window;
    lv.box().scrollTop = 0;
    await new Promise((r) => setTimeout(r, 100));
    const input = document.querySelector('input[aria-label="Search log"]');
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    const t0 = performance.now();
    setValue.call(input, term);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    return new Promise((resolve) => {
      const check = () => {
        const counter = document.querySelector('.log-counter').textContent;
        const mark = document.querySelector('mark.log-match-current');
        const el = lv.box();
        const r = mark?.getBoundingClientRect();
        const b = el.getBoundingClientRect();
        const inView = r && r.top >= b.top && r.bottom <= b.top + el.clientTop + el.clientHeight;
        // The counter and mark of this term (until the deferred search renders, the last term's are shown).
        if (/^[1-9][\d]* of \d+\+?$/.test(counter) && inView && mark.textContent.toLowerCase() === term) resolve({ term, ms: performance.now() - t0, counter });
        else if (performance.now() - t0 > 15_000) resolve({ term, ms: null, counter });
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    });
  }, term);
}

/** In the page: clicks Next / Previous -> the counter moved and the current match is in view (vertically and sideways). */
async function jump(page, name) {
  return page.evaluate(async (name) => {
    const { lv } = window;
    const counter = () => document.querySelector('.log-counter').textContent;
    const before = counter();
    const t0 = performance.now();
    document.querySelector(`button[aria-label="${name}"]`).click();
    return new Promise((resolve) => {
      const check = () => {
        const mark = document.querySelector('mark.log-match-current');
        const el = lv.box();
        const r = mark?.getBoundingClientRect();
        const b = el.getBoundingClientRect();
        const inView = r && r.top >= b.top && r.bottom <= b.top + el.clientTop + el.clientHeight && r.left >= b.left && r.right <= b.left + el.clientLeft + el.clientWidth;
        if (counter() !== before && inView) resolve({ ms: performance.now() - t0, counter: counter(), line: Number(mark.closest('.log-row').querySelector('.log-lineno').textContent) });
        else if (performance.now() - t0 > 5_000) resolve({ ms: null, counter: counter(), line: null });
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    });
  }, name);
}

async function openPage(interval) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => say(`page exception: ${e.message}`));
  await page.goto(`${base}?lines=${LINES}&batch=${BATCH}&interval=${interval}`);
  await page.waitForFunction(() => typeof window.benchStart === 'function', null, { timeout: 60_000 });
  await page.evaluate(installHelpers);
  return { context, page };
}

async function ingestRun(interval) {
  const { context, page } = await openPage(interval);
  say(`ingest: ${LINES} lines, ${BATCH} a batch, ${interval === 'frame' ? 'a batch per animation frame' : `every ${interval} ms`}, following`);
  const r = await ingest(page);
  const s = r.samples;
  return {
    context,
    page,
    result: {
      interval: interval === 'frame' ? 'frame' : Number(interval),
      lines: LINES,
      batch: BATCH,
      batches: r.batches,
      logMb: round((r.chars * 2) / 1024 / 1024),
      firstBatchToLastLineShownMs: round(r.shownAt - r.firstAppendAt),
      lastBatchToLastLineShownMs: round(r.shownAt - r.lastAppendAt),
      streamMs: round(r.lastAppendAt - r.firstAppendAt),
      appendMs: round(r.appendMs),
      framesSampled: s.frames,
      framesLastRowIsLastPublished: s.lastRowIsLastPublished,
      framesAtBottom: s.atBottom,
      maxLinesBehindReceived: s.maxLinesBehindReceived,
      maxRowsInDom: s.maxRows,
      frameTimes: frameStats(r.frames),
      longTasks: r.longTasks.length,
      longestTaskMs: round(r.longTasks.length ? Math.max(...r.longTasks.map((l) => l.ms)) : 0),
      // When each long task started (ms after the first batch) and how long it took.
      longTaskList: r.longTasks.map((l) => ({ atMs: round(l.at), ms: round(l.ms) })),
      end: r.end,
    },
  };
}

const results = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, loadAverageAtStart: loadAtStart, browser: `chromium ${browser.version()}`, viewport: '1280x800' },
  options: { lines: LINES, batch: BATCH, intervals: INTERVALS, scrollSeconds: SECONDS },
  ingest: [],
};
try {
  // Every interval but the first in a page of its own, closed after its ingest; then the first's, kept for the rest.
  const others = [];
  for (const interval of INTERVALS.slice(1)) {
    const run = await ingestRun(interval);
    others.push(run.result);
    await run.context.close();
  }
  const { page, context, result } = await ingestRun(INTERVALS[0]);
  results.ingest = [result, ...others];
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  results.heapAfterLoadMb = await heapMb(cdp);
  results.dom = { rows: result.end.rows, elementsInLog: result.end.elements };
  await page.screenshot({ path: '/tmp/pw-bench-console-log.png' });
  results.scroll = [];
  for (const mode of ['wheel', 'step', 'jump']) {
    say(`scrolling: ${mode} for ${SECONDS} s`);
    results.scroll.push(await scroll(page, cdp, mode));
  }
  say('search');
  results.search = [];
  for (const term of ['compiling', 'error']) {
    const s = await search(page, term);
    results.search.push({ ...s, ms: round(s.ms) });
  }
  const jumps = [];
  for (let i = 0; i < 5; i++) jumps.push({ name: 'Next match', ...(await jump(page, 'Next match')) });
  for (let i = 0; i < 6; i++) jumps.push({ name: 'Previous match', ...(await jump(page, 'Previous match')) });
  const times = jumps.map((j) => j.ms).filter((x) => x !== null);
  results.jumps = { term: 'error', count: jumps.length, p50Ms: round(pct(times, 50)), maxMs: round(times.length ? Math.max(...times) : null), missed: jumps.length - times.length, steps: jumps.map((j) => ({ ...j, ms: round(j.ms) })) };
  await page.screenshot({ path: '/tmp/pw-bench-console-log-search.png' });
  results.heapAfterAllMb = await heapMb(cdp);
  await context.close();
} finally {
  await browser.close();
  closeServer();
}
results.totalSeconds = round((Date.now() - started) / 1000);
results.machine.loadAverageAtEnd = loadavg().map((x) => round(x, 2));

const print = (table) => {
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => String(r[i]).length)));
  for (const row of table) console.log(row.map((c, i) => String(c).padEnd(widths[i])).join('  '));
  console.log('');
};
print([
  ['ingest (batch / every)', 'first batch→last line shown ms', 'last batch→shown ms', 'frames last row = last line', 'at bottom', 'max rows', 'frame p50/p95/p99/max', 'long tasks (longest)'],
  ...results.ingest.map((g) => [
    `${g.batch} / ${g.interval === 'frame' ? 'frame' : `${g.interval} ms`}`,
    g.firstBatchToLastLineShownMs,
    g.lastBatchToLastLineShownMs,
    `${g.framesLastRowIsLastPublished}/${g.framesSampled}`,
    `${g.framesAtBottom}/${g.framesSampled}`,
    g.maxRowsInDom,
    `${g.frameTimes.p50Ms}/${g.frameTimes.p95Ms}/${g.frameTimes.p99Ms}/${g.frameTimes.maxMs}`,
    `${g.longTasks} (${g.longestTaskMs} ms)`,
  ]),
]);
print([
  ['scroll', 'frames', 'frame p50/p95/p99/max ms', 'uncovered / blank at paint', 'max rows', 'script/layout ms a frame', 'reached line'],
  ...results.scroll.map((s) => [
    `${s.mode} (${s.moves} ${s.mode === 'wheel' ? 'wheel events' : 'moves'})`,
    s.frames,
    `${s.p50Ms}/${s.p95Ms}/${s.p99Ms}/${s.maxMs}`,
    `${s.uncoveredFrames} / ${s.blankAtPaintFrames ?? '-'}`,
    s.maxRows,
    `${s.perFrameMs.script}/${s.perFrameMs.layout}`,
    s.reachedLine,
  ]),
]);
for (const s of results.search) console.log(`search "${s.term}": ${s.ms} ms to "${s.counter}" with the current match in view`);
console.log(`Next ×5 / Previous ×6 ("error"): p50 ${results.jumps.p50Ms} ms, max ${results.jumps.maxMs} ms, missed ${results.jumps.missed}; ended at "${results.jumps.steps.at(-1).counter}"`);
const e = results.ingest[0].end;
console.log(`end of load: last row ${e.lastRow} (in view: ${e.lastRowInView}), follow ${e.follow}, status "${e.status}", ${results.dom.rows} rows / ${results.dom.elementsInLog} elements in the log; heap ${results.heapAfterLoadMb} MB after load, ${results.heapAfterAllMb} MB after all (log text ${results.ingest[0].logMb} MB as UTF-16)`);
console.log(`load average ${results.machine.loadAverageAtStart.join(' ')} -> ${results.machine.loadAverageAtEnd.join(' ')}; total ${results.totalSeconds} s`);

const outDir = arg('out-dir', join(repo, 'bench', 'results'));
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'console-log.json'), JSON.stringify(results, null, 2) + '\n');
say(`wrote ${join(outDir, 'console-log.json')}`);
