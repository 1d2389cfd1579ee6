// What the console benchmarks share: arguments, statistics, building a bench page with vite into
// /tmp, serving it on loopback, and Debian's chromium through playwright-core.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const require = createRequire(join(repo, 'package.json'));

/** `--name value` from the command line, else `dflt`. */
export const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

/** The p-th percentile (nearest rank), null for no samples. */
export const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
export const round = (x, d = 1) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);

/** Builds the bench page in `root` (its index.html) with vite into `outDir`, unless `pageDir` names one built elsewhere. */
export async function benchPage({ root, outDir, pageDir, say }) {
  if (pageDir) {
    say(`bench page from ${pageDir}`);
    return pageDir;
  }
  say('building the bench page');
  const { build } = await import(require.resolve('vite'));
  const { default: react } = await import(require.resolve('@vitejs/plugin-react'));
  await build({ root, configFile: false, logLevel: 'error', plugins: [react()], build: { outDir, emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 10_000 } });
  return outDir;
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json' };

/** Serves `dir` on 127.0.0.1 (unknown paths answer its index.html); resolves to its base URL and a close. */
export async function serveDir(dir) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(dir, path);
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(dir, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

/** Debian's chromium, with the flags this closed machine needs, and precise heap figures. */
export function launchChromium() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-precise-memory-info'],
  });
}

/** JS heap in use after a forced GC, in MB (the page's CDP session, Performance domain enabled). */
export async function heapMb(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  return round(metrics.find((m) => m.name === 'JSHeapUsedSize').value / 1024 / 1024);
}
