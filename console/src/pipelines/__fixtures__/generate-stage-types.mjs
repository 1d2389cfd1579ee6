#!/usr/bin/env node
// Writes stage-types.json next to this file: the `stageTypes` query's answer (type, group, label,
// description, configSchema) as the pipelines service computes it, from the repository's code:
// services/pipelines/src/pipelines/stage-type-schemas.ts (transpiled with swc in memory) over the
// built @pipewright/contracts (libs/contracts/dist: run the build first if src changed).
//   node console/src/pipelines/__fixtures__/generate-stage-types.mjs           write the fixture
//   node console/src/pipelines/__fixtures__/generate-stage-types.mjs --check   exit 1 if it differs
//   ... --live <gateway url> <token>   also compare with a running gateway's stageTypes
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../../..');
const source = join(root, 'services/pipelines/src/pipelines/stage-type-schemas.ts');
const requireFromService = createRequire(source);
const swc = requireFromService('@swc/core');
const { code } = swc.transformSync(readFileSync(source, 'utf8'), {
  filename: source,
  jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  module: { type: 'commonjs' },
});
const mod = { exports: {} };
new Function('require', 'module', 'exports', code)(requireFromService, mod, mod.exports);
const stageTypes = mod.exports.describeStageTypes();
const text = `${JSON.stringify(stageTypes, null, 2)}\n`;
const out = join(here, 'stage-types.json');

const args = process.argv.slice(2);
if (args.includes('--live')) {
  const [url, token] = args.slice(args.indexOf('--live') + 1);
  const res = await fetch(`${url.replace(/\/$/, '')}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ stageTypes { type group label description configSchema } }' }),
  });
  const live = (await res.json()).data.stageTypes;
  const same = JSON.stringify(live) === JSON.stringify(stageTypes);
  console.log(same ? 'live stageTypes equal the computed ones' : 'live stageTypes DIFFER from the computed ones');
  if (!same) process.exitCode = 1;
}
if (args.includes('--check')) {
  const same = readFileSync(out, 'utf8') === text;
  console.log(same ? 'fixture is up to date' : 'fixture is out of date: run without --check');
  if (!same) process.exitCode = 1;
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out} (${stageTypes.length} stage types)`);
}
