import { render } from '@testing-library/react';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import type { ReactNode } from 'react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { Provider, type Client, type CombinedError } from 'urql';
import { fromValue, never } from 'wonka';
import { ProjectScope } from '../../projects/ProjectContext';

export const PROJECT_ID = '00000000-0000-4000-8000-000000000001';
export const IDS = {
  SOURCE_REPOSITORY: '11111111-1111-4111-8111-111111111111',
  BUILD_TOOL: '22222222-2222-4222-8222-222222222222',
  IMAGE_REGISTRY: '33333333-3333-4333-8333-333333333333',
  CHART_REPOSITORY: '44444444-4444-4444-8444-444444444444',
  DEPLOYMENT_TARGET: '55555555-5555-4555-8555-555555555555',
  PIPELINE: '66666666-6666-4666-8666-666666666666',
};
export const SELF_PIPELINE = '77777777-7777-4777-8777-777777777777';

const RESOURCE_OPERATIONS: Record<string, keyof typeof IDS> = {
  PipelineEditorSourceRepositories: 'SOURCE_REPOSITORY',
  PipelineEditorBuildTools: 'BUILD_TOOL',
  PipelineEditorImageRegistries: 'IMAGE_REGISTRY',
  PipelineEditorChartRepositories: 'CHART_REPOSITORY',
  PipelineEditorDeploymentTargets: 'DEPLOYMENT_TARGET',
  PipelineEditorPipelines: 'PIPELINE',
};

/** The name a resource of the kind has in the fake API: e.g. `image-registry-a`. */
export const resourceName = (kind: keyof typeof IDS) => `${kind.toLowerCase().replace(/_/g, '-')}-a`;

export interface FakeApi {
  /** More query answers by operation name. */
  queries?: Record<string, (variables: Record<string, unknown>) => unknown>;
  /** Mutation answers by operation name: `{ data }` or `{ error }`. */
  mutations?: Record<string, (variables: Record<string, unknown>) => { data?: unknown; error?: CombinedError }>;
}

const operationName = (query: DocumentNode) => query.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')?.name?.value ?? '';

function answer(query: DocumentNode, variables: Record<string, unknown>, api: FakeApi): unknown {
  const name = operationName(query);
  if (api.queries?.[name]) return api.queries[name](variables);
  if (name === 'Viewer') {
    return {
      viewer: { __typename: 'CurrentViewer', sub: 'dev', name: 'Dev', roles: ['ADMIN'], via: 'token', projects: [{ roles: ['ADMIN'], project: { id: PROJECT_ID, slug: 'default', name: 'Default' } }] },
      projects: { edges: [{ node: { id: PROJECT_ID, slug: 'default', name: 'Default' } }] },
    };
  }
  const kind = RESOURCE_OPERATIONS[name];
  if (kind) {
    const nodes = [{ id: IDS[kind], name: resourceName(kind) }];
    if (kind === 'PIPELINE') nodes.push({ id: SELF_PIPELINE, name: 'this-pipeline' });
    return { items: { totalCount: nodes.length, edges: nodes.map((node) => ({ node })) } };
  }
  return null;
}

/** An urql client answering from the fixtures above (no network). */
export function fakeClient(api: FakeApi = {}): Client {
  return {
    executeQuery: ({ query, variables }: { query: DocumentNode; variables: Record<string, unknown> }) => {
      const data = answer(query, variables ?? {}, api);
      return data ? fromValue({ data, stale: false, hasNext: false }) : never;
    },
    executeMutation: ({ query, variables }: { query: DocumentNode; variables: Record<string, unknown> }) => {
      const handler = api.mutations?.[operationName(query)];
      return handler ? fromValue({ ...handler(variables ?? {}), stale: false, hasNext: false }) : never;
    },
    executeSubscription: () => never,
  } as unknown as Client;
}

/** Renders inside the project `default` (platform ADMIN), a memory router and the fake client. */
export function renderInProject(ui: ReactNode, { api = {}, path = '/p/default/pipelines', route = '/p/:project/*' }: { api?: FakeApi; path?: string; route?: string } = {}) {
  const router = createMemoryRouter([{ path: route, element: <ProjectScope>{ui}</ProjectScope> }], { initialEntries: [path] });
  return render(
    <Provider value={fakeClient(api)}>
      <RouterProvider router={router} />
    </Provider>,
  );
}
