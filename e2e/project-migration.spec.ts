import { DEFAULT_PROJECT_ID } from '@pipewright/contracts';
import { createDataSource } from '@pipewright/persistence';
import { freshDatabase, gql, startPlatform, withClient, type TestDatabase, type TestPlatform } from '@pipewright/testing';
import { randomUUID } from 'node:crypto';
import type { MigrationInterface } from 'typeorm';
import { migrations as environmentsMigrations } from '../services/environments/src/migrations';
import { migrations as executionsMigrations } from '../services/executions/src/migrations';
import { migrations as pipelinesMigrations } from '../services/pipelines/src/migrations';

/** Migrations up to the last release before projects (their timestamps are all below this). */
const PROJECTS_RELEASE = 1768000000000;
const before = (list: Array<new () => MigrationInterface>) => list.filter((m) => Number(/(\d{13})$/.exec(m.name)?.[1] ?? 0) < PROJECTS_RELEASE);

async function migratedByPreviousVersion(label: string, list: Array<new () => MigrationInterface>): Promise<TestDatabase> {
  const db = await freshDatabase(label);
  const ds = createDataSource({ url: db.url, migrations: before(list) });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  return db;
}

/**
 * Databases written by the version before projects: the new services migrate them at boot and
 * everything they held is in the project named `default`, readable by its members.
 */
describe('upgrading databases created before projects', () => {
  let platform: TestPlatform;
  const dbs: TestDatabase[] = [];
  const ids = { resource: randomUUID(), pipeline: randomUUID(), run: randomUUID() };

  beforeAll(async () => {
    expect(before(pipelinesMigrations).length).toBeLessThan(pipelinesMigrations.length);
    const [environments, pipelines, executions] = await Promise.all([
      migratedByPreviousVersion('old_env', environmentsMigrations),
      migratedByPreviousVersion('old_pipes', pipelinesMigrations),
      migratedByPreviousVersion('old_exec', executionsMigrations),
    ]);
    dbs.push(environments, pipelines, executions);
    const now = new Date().toISOString();
    await withClient(environments.url, (c) =>
      c.query(
        `INSERT INTO resources (id, kind, name, config, secrets, version, created_at, created_by, updated_at, updated_by)
         VALUES ($1, 'deployment-target', 'old-cluster', $2, '{}', 1, $3, 'ada', $3, 'ada')`,
        [ids.resource, JSON.stringify({ apiServerUrl: 'https://127.0.0.1:6443', insecureSkipTlsVerify: true, caCertificate: null, defaultNamespace: 'default', authMethod: 'TOKEN' }), now],
      ),
    );
    const document = { name: 'old-pipeline', parameters: [], stages: [{ refId: 'j', name: 'J', type: 'JUDGEMENT', dependsOn: [], config: { options: ['go'] }, failurePolicy: 'FAIL_PIPELINE' }] };
    await withClient(pipelines.url, async (c) => {
      await c.query(`INSERT INTO pipelines (id, name, revision, created_at, created_by, updated_at, updated_by) VALUES ($1, 'old-pipeline', 1, $2, 'dee', $2, 'dee')`, [ids.pipeline, now]);
      await c.query(`INSERT INTO pipeline_revisions (pipeline_id, revision, document, created_at, created_by, note) VALUES ($1, 1, $2, $3, 'dee', 'created')`, [ids.pipeline, JSON.stringify(document), now]);
    });
    await withClient(executions.url, (c) =>
      c.query(
        `INSERT INTO runs (id, pipeline_id, pipeline_name, revision, number, status, parameters, snapshot, created_by, created_at, started_at, finished_at)
         VALUES ($1, $2, 'old-pipeline', 1, 1, 'SUCCEEDED', '{}', $3, 'dee', $4, $4, $4)`,
        [ids.run, ids.pipeline, JSON.stringify({ pipelineId: ids.pipeline, revision: 1, document }), now],
      ),
    );
    platform = await startPlatform('upgrade', {}, { environments: { DATABASE_URL: environments.url }, pipelines: { DATABASE_URL: pipelines.url }, executions: { DATABASE_URL: executions.url } });
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
    await Promise.all(dbs.map((d) => d.drop().catch(() => undefined)));
  });

  it('puts what they held in the project named default, for its members to read', async () => {
    const token = await platform.token({ sub: 'dee', roles: ['DEVELOPER'] });
    const res = await gql<{
      pipelines: { edges: { node: { id: string; projectId: string; project: { slug: string } } }[] };
      deploymentTargets: { edges: { node: { id: string; projectId: string } }[] };
      run: { projectId: string; pipeline: { id: string } };
    }>(
      platform.gatewayUrl,
      `query($run: ID!) {
        pipelines { edges { node { id projectId project { slug } } } }
        deploymentTargets { edges { node { id projectId } } }
        run(id: $run) { projectId pipeline { id } }
      }`,
      { token, variables: { run: ids.run } },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.pipelines.edges.map((e) => e.node)).toEqual([{ id: ids.pipeline, projectId: DEFAULT_PROJECT_ID, project: { slug: 'default' } }]);
    expect(res.data!.deploymentTargets.edges.map((e) => e.node)).toEqual([{ id: ids.resource, projectId: DEFAULT_PROJECT_ID }]);
    expect(res.data!.run).toEqual({ projectId: DEFAULT_PROJECT_ID, pipeline: { id: ids.pipeline } });

    // A member of another project only sees nothing of it.
    const other = await platform.createProject('elsewhere');
    await platform.setMember(other, 'olga', ['DEVELOPER']);
    const olga = await platform.token({ sub: 'olga', roles: [] });
    const refused = await gql(platform.gatewayUrl, `query($run: ID!) { run(id: $run) { id } }`, { token: olga, variables: { run: ids.run } });
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});
