// One jest run for the whole repository. Every spec talks to the real components that
// deploy/testenv/up started; globalSetup reads their addresses from deploy/testenv/.state/env.
const fs = require('node:fs');
const path = require('node:path');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.$schema;

const transform = { '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }] };
const libs = ['contracts', 'messaging', 'persistence', 'auth', 'testing', 'platform', 'kube'];
const moduleNameMapper = Object.fromEntries(
  libs.map((lib) => [`^@pipewright/${lib}$`, `<rootDir>/libs/${lib}/src/index.ts`]),
);

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform,
  moduleNameMapper,
  testMatch: ['<rootDir>/{libs,services,gateway,deploy,e2e}/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  setupFiles: ['<rootDir>/libs/testing/src/jest-env.ts'],
  testTimeout: 120_000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
};
