#!/usr/bin/env bash
# `npm test`: brings up the real components (deploy/testenv/up), builds, lints (module boundaries
# included), type-checks, then runs every jest suite against those components.
# Extra arguments go to jest, e.g. `npm test -- e2e/platform.spec.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false

step() { printf '\n[pipewright test] %s\n' "$*" >&2; }

step "bringing up the test environment"
bash deploy/testenv/up
step "building"
node scripts/build.mjs
step "building the console (codegen against console/schema.graphql, type check, vite)"
node console/scripts/build.mjs
step "linting"
npx nx show projects >/dev/null # computes the project graph the boundary rule reads
npx eslint .
step "type-checking"
npx tsc -p tsconfig.json --noEmit
step "console unit tests (vitest)"
(cd console && npx vitest run)
step "running the suites"
npx jest --ci "$@"
