#!/usr/bin/env node
// Transpiles every workspace's src/ to dist/ with swc (type checking is `npm run typecheck`).
// Workspace packages resolve each other at run time through node_modules/@pipewright/* -> dist.
import { transformFile } from '@swc/core';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const swcrc = JSON.parse(await readFile(join(root, '.swcrc'), 'utf8'));
delete swcrc.$schema;

// `node scripts/build.mjs services/projects gateway` builds only those; no argument builds all.
const only = process.argv.slice(2).map((a) => a.replace(/\/+$/, ''));
const projects = [
  ...(await readdir(join(root, 'libs'))).map((d) => join('libs', d)),
  ...(await readdir(join(root, 'services'))).map((d) => join('services', d)),
  'gateway',
].filter((p) => !only.length || only.includes(p));

async function* sources(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '__tests__') yield* sources(p);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) {
      yield p;
    }
  }
}

let count = 0;
const started = Date.now();
for (const project of projects) {
  const src = join(root, project, 'src');
  if (!(await stat(src).catch(() => null))) continue;
  const dist = join(root, project, 'dist');
  await rm(dist, { recursive: true, force: true });
  const jobs = [];
  for await (const file of sources(src)) {
    const out = join(dist, relative(src, file)).replace(/\.ts$/, '.js');
    jobs.push(
      transformFile(file, { ...swcrc, swcrc: false, filename: file, sourceFileName: relative(dirname(out), file) }).then(async ({ code, map }) => {
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, `${code}\n//# sourceMappingURL=${out.split('/').pop()}.map\n`);
        if (map) await writeFile(`${out}.map`, map);
        count++;
      }),
    );
  }
  await Promise.all(jobs);
}
console.log(`built ${count} files in ${Date.now() - started} ms`);
