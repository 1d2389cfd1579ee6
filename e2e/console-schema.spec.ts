// The console's operations are validated and typed at build time against console/schema.graphql.
// This keeps that file true: it must be exactly the API the gateway serves (the composed supergraph
// over HTTP, plus the subscriptions the gateway adds on graphql-ws). After an API change, refresh it
// with `UPDATE_CONSOLE_SCHEMA=1 npx jest e2e/console-schema.spec.ts` and rebuild the console.
import { gql, startPlatform, type TestPlatform } from '@pipewright/testing';
import { buildClientSchema, extendSchema, getIntrospectionQuery, lexicographicSortSchema, parse, printSchema, type IntrospectionQuery } from 'graphql';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUBSCRIPTION_SDL } from '../gateway/src/run-updates';

const SCHEMA_FILE = join(__dirname, '..', 'console', 'schema.graphql');
/** The stage types the console's form tests render (console/src/pipelines/__fixtures__/generate-stage-types.mjs writes it). */
const STAGE_TYPES_FILE = join(__dirname, '..', 'console', 'src', 'pipelines', '__fixtures__', 'stage-types.json');

describe('console/schema.graphql and the stage types fixture', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startPlatform('console-schema');
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it('is the API the gateway serves, subscriptions included', async () => {
    const token = await platform.token({ sub: 'schema-check', roles: ['ADMIN'] });
    const res = await gql<IntrospectionQuery>(platform.gatewayUrl, getIntrospectionQuery(), { token });
    expect(res.errors).toBeUndefined();
    const served = extendSchema(buildClientSchema(res.data!), parse(SUBSCRIPTION_SDL));
    const live = `${printSchema(lexicographicSortSchema(served))}\n`;
    if (process.env.UPDATE_CONSOLE_SCHEMA === '1') writeFileSync(SCHEMA_FILE, live);
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    // A plain comparison prints the whole file; name the first line that differs instead.
    const a = committed.split('\n');
    const b = live.split('\n');
    const first = a.findIndex((line, i) => line !== b[i]);
    expect({ firstDifferentLine: first < 0 && a.length === b.length ? null : first + 1, committed: a[first], served: b[first] }).toEqual({ firstDifferentLine: null, committed: undefined, served: undefined });
  });

  it('the stage-types fixture of the console form tests is what stageTypes answers', async () => {
    const token = await platform.token({ sub: 'schema-check', roles: ['ADMIN'] });
    const res = await gql<{ stageTypes: unknown[] }>(platform.gatewayUrl, '{ stageTypes { type group label description configSchema } }', { token });
    expect(res.errors).toBeUndefined();
    const fixture = JSON.parse(readFileSync(STAGE_TYPES_FILE, 'utf8')) as unknown[];
    expect(res.data!.stageTypes.length).toBeGreaterThan(10);
    expect(res.data!.stageTypes).toEqual(fixture);
  });
});
