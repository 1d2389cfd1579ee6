#!/usr/bin/env node
// Builds the console into console/dist: GraphQL codegen (every operation validated against
// schema.graphql), a type check, then vite. `--if-stale` skips all of it when dist was built from
// the same inputs (a hash of them is kept in dist/.inputs-hash); `npm start` uses that.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(dir, '..', 'node_modules', '.bin', name);
const INPUTS = ['index.html', 'schema.graphql', 'package.json', '../package-lock.json', 'vite.config.ts', 'codegen.ts', 'tsconfig.json', 'src', 'public'];

function* files(p) {
  if (!existsSync(p)) return;
  if (!statSync(p).isDirectory()) return yield p;
  for (const e of readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const q = join(p, e.name);
    if (e.isDirectory()) {
      if (!['gql', 'node_modules'].includes(e.name)) yield* files(q);
    } else if (!/\.test\.tsx?$/.test(e.name)) yield q;
  }
}

export function inputsHash() {
  const h = createHash('sha256');
  for (const input of INPUTS) for (const f of files(join(dir, input))) h.update(relative(dir, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

const hashFile = join(dir, 'dist', '.inputs-hash');
const hash = inputsHash();
if (process.argv.includes('--if-stale') && existsSync(join(dir, 'dist', 'index.html')) && existsSync(hashFile) && readFileSync(hashFile, 'utf8') === hash) {
  console.error('[console] up to date');
  process.exit(0);
}
const run = (name, args) => execFileSync(bin(name), args, { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
const started = Date.now();
console.error('[console] codegen');
run('graphql-codegen', ['--config', 'codegen.ts', '--silent']);
console.error('[console] type-checking');
run('tsc', ['-p', 'tsconfig.json', '--noEmit']);
console.error('[console] vite build');
run('vite', ['build', '--logLevel', 'warn']);
writeFileSync(hashFile, hash);
console.error(`[console] built in ${Date.now() - started} ms`);
