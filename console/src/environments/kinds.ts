import type { TypedDocumentNode } from 'urql';
import { graphql } from '../gql';
import type {
  CreateBuildToolInput,
  CreateChartRepositoryInput,
  CreateDeploymentTargetInput,
  CreateImageRegistryInput,
  CreateSecretInput,
  CreateSourceRepositoryInput,
  UpdateBuildToolInput,
  UpdateChartRepositoryInput,
  UpdateDeploymentTargetInput,
  UpdateImageRegistryInput,
  UpdateSecretInput,
  UpdateSourceRepositoryInput,
} from '../gql/graphql';
import type { FieldSpec } from './form-model';

// Every kind's operations alias their root field (list, created, updated, deleted, probe) so one
// generic tab serves them all.

const SourceRepositoriesQuery = graphql(`
  query EnvSourceRepositories($projectId: ID!, $first: Int, $after: String, $search: String) {
    list: sourceRepositories(projectId: $projectId, first: $first, after: $after, search: $search) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name version hasCredentials updatedAt updatedBy provider url defaultBranch } }
    }
  }
`);
const CreateSourceRepositoryMutation = graphql(`
  mutation EnvCreateSourceRepository($input: CreateSourceRepositoryInput!) {
    created: createSourceRepository(input: $input) { id name }
  }
`);
const UpdateSourceRepositoryMutation = graphql(`
  mutation EnvUpdateSourceRepository($id: ID!, $input: UpdateSourceRepositoryInput!) {
    updated: updateSourceRepository(id: $id, input: $input) { id name version hasCredentials updatedAt updatedBy provider url defaultBranch }
  }
`);
const DeleteSourceRepositoryMutation = graphql(`
  mutation EnvDeleteSourceRepository($id: ID!, $force: Boolean!) {
    deleted: deleteSourceRepository(id: $id, force: $force)
  }
`);
const TestSourceRepositoryMutation = graphql(`
  mutation EnvTestSourceRepository($id: ID!) {
    probe: testSourceRepository(id: $id) { ok message latencyMs details }
  }
`);

const BuildToolsQuery = graphql(`
  query EnvBuildTools($projectId: ID!, $first: Int, $after: String, $search: String) {
    list: buildTools(projectId: $projectId, first: $first, after: $after, search: $search) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name version hasCredentials updatedAt updatedBy kind url username } }
    }
  }
`);
const CreateBuildToolMutation = graphql(`
  mutation EnvCreateBuildTool($input: CreateBuildToolInput!) {
    created: createBuildTool(input: $input) { id name }
  }
`);
const UpdateBuildToolMutation = graphql(`
  mutation EnvUpdateBuildTool($id: ID!, $input: UpdateBuildToolInput!) {
    updated: updateBuildTool(id: $id, input: $input) { id name version hasCredentials updatedAt updatedBy kind url username }
  }
`);
const DeleteBuildToolMutation = graphql(`
  mutation EnvDeleteBuildTool($id: ID!, $force: Boolean!) {
    deleted: deleteBuildTool(id: $id, force: $force)
  }
`);
const TestBuildToolMutation = graphql(`
  mutation EnvTestBuildTool($id: ID!) {
    probe: testBuildTool(id: $id) { ok message latencyMs details }
  }
`);

const ImageRegistriesQuery = graphql(`
  query EnvImageRegistries($projectId: ID!, $first: Int, $after: String, $search: String) {
    list: imageRegistries(projectId: $projectId, first: $first, after: $after, search: $search) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name version hasCredentials updatedAt updatedBy url namespace insecure username } }
    }
  }
`);
const CreateImageRegistryMutation = graphql(`
  mutation EnvCreateImageRegistry($input: CreateImageRegistryInput!) {
    created: createImageRegistry(input: $input) { id name }
  }
`);
const UpdateImageRegistryMutation = graphql(`
  mutation EnvUpdateImageRegistry($id: ID!, $input: UpdateImageRegistryInput!) {
    updated: updateImageRegistry(id: $id, input: $input) { id name version hasCredentials updatedAt updatedBy url namespace insecure username }
  }
`);
const DeleteImageRegistryMutation = graphql(`
  mutation EnvDeleteImageRegistry($id: ID!, $force: Boolean!) {
    deleted: deleteImageRegistry(id: $id, force: $force)
  }
`);
const TestImageRegistryMutation = graphql(`
  mutation EnvTestImageRegistry($id: ID!) {
    probe: testImageRegistry(id: $id) { ok message latencyMs details }
  }
`);

const ChartRepositoriesQuery = graphql(`
  query EnvChartRepositories($projectId: ID!, $first: Int, $after: String, $search: String) {
    list: chartRepositories(projectId: $projectId, first: $first, after: $after, search: $search) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name version hasCredentials updatedAt updatedBy url username } }
    }
  }
`);
const CreateChartRepositoryMutation = graphql(`
  mutation EnvCreateChartRepository($input: CreateChartRepositoryInput!) {
    created: createChartRepository(input: $input) { id name }
  }
`);
const UpdateChartRepositoryMutation = graphql(`
  mutation EnvUpdateChartRepository($id: ID!, $input: UpdateChartRepositoryInput!) {
    updated: updateChartRepository(id: $id, input: $input) { id name version hasCredentials updatedAt updatedBy url username }
  }
`);
const DeleteChartRepositoryMutation = graphql(`
  mutation EnvDeleteChartRepository($id: ID!, $force: Boolean!) {
    deleted: deleteChartRepository(id: $id, force: $force)
  }
`);
const TestChartRepositoryMutation = graphql(`
  mutation EnvTestChartRepository($id: ID!) {
    probe: testChartRepository(id: $id) { ok message latencyMs details }
  }
`);

const DeploymentTargetsQuery = graphql(`
  query EnvDeploymentTargets($projectId: ID!, $first: Int, $after: String, $search: String) {
    list: deploymentTargets(projectId: $projectId, first: $first, after: $after, search: $search) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id name version hasCredentials updatedAt updatedBy
          apiServerUrl authMethod caCertificate clientCertificate defaultNamespace insecureSkipTlsVerify
        }
      }
    }
  }
`);
const CreateDeploymentTargetMutation = graphql(`
  mutation EnvCreateDeploymentTarget($input: CreateDeploymentTargetInput!) {
    created: createDeploymentTarget(input: $input) { id name }
  }
`);
const UpdateDeploymentTargetMutation = graphql(`
  mutation EnvUpdateDeploymentTarget($id: ID!, $input: UpdateDeploymentTargetInput!) {
    updated: updateDeploymentTarget(id: $id, input: $input) {
      id name version hasCredentials updatedAt updatedBy
      apiServerUrl authMethod caCertificate clientCertificate defaultNamespace insecureSkipTlsVerify
    }
  }
`);
const DeleteDeploymentTargetMutation = graphql(`
  mutation EnvDeleteDeploymentTarget($id: ID!, $force: Boolean!) {
    deleted: deleteDeploymentTarget(id: $id, force: $force)
  }
`);
const TestDeploymentTargetMutation = graphql(`
  mutation EnvTestDeploymentTarget($id: ID!) {
    probe: testDeploymentTarget(id: $id) { ok message latencyMs details }
  }
`);

const SecretsQuery = graphql(`
  query EnvSecrets($projectId: ID!, $first: Int, $after: String, $search: String) {
    list: secrets(projectId: $projectId, first: $first, after: $after, search: $search) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name version hasCredentials updatedAt updatedBy } }
    }
  }
`);
const CreateSecretMutation = graphql(`
  mutation EnvCreateSecret($input: CreateSecretInput!) {
    created: createSecret(input: $input) { id name }
  }
`);
const UpdateSecretMutation = graphql(`
  mutation EnvUpdateSecret($id: ID!, $input: UpdateSecretInput!) {
    updated: updateSecret(id: $id, input: $input) { id name version hasCredentials updatedAt updatedBy }
  }
`);
const DeleteSecretMutation = graphql(`
  mutation EnvDeleteSecret($id: ID!, $force: Boolean!) {
    deleted: deleteSecret(id: $id, force: $force)
  }
`);
const TestSecretMutation = graphql(`
  mutation EnvTestSecret($id: ID!) {
    probe: testSecret(id: $id) { ok message latencyMs details }
  }
`);

/** Fields every listed resource has. */
export interface ResourceRow {
  id: string;
  name: string;
  version: number;
  hasCredentials: boolean;
  updatedAt: string;
  updatedBy: string;
}

export interface ListVariables {
  projectId: string;
  first?: number | null;
  after?: string | null;
  search?: string | null;
}

export interface ListData<Row> {
  list: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor?: string | null }; edges: { node: Row }[] };
}

export interface ProbeData {
  probe: { ok: boolean; message: string; latencyMs: number; details?: unknown };
}

export interface Column<Row> {
  header: string;
  cell: (row: Row) => string;
  mono?: boolean;
}

/** One kind of environment resource: its tab, its operations, its form and its table. */
export interface KindConfig<Row extends ResourceRow, CreateIn, UpdateIn> {
  /** The URL segment: /p/<slug>/settings/<slug>. */
  slug: string;
  /** The tab's name, e.g. "Source repositories". */
  title: string;
  /** e.g. "source repository" (the button is "New source repository"). */
  singular: string;
  plural: string;
  list: TypedDocumentNode<ListData<Row>, ListVariables>;
  create: TypedDocumentNode<{ created: { id: string; name: string } }, { input: CreateIn }>;
  update: TypedDocumentNode<{ updated: Row }, { id: string; input: UpdateIn }>;
  remove: TypedDocumentNode<{ deleted: string }, { id: string; force: boolean }>;
  test: TypedDocumentNode<ProbeData, { id: string }>;
  /** Whether it has an endpoint to test (default true; a secret has none). */
  testable?: boolean;
  /** What the search matches, for its placeholder (default "name or URL"). */
  searchBy?: string;
  fields: FieldSpec<Row>[];
  columns: Column<Row>[];
}

const credentials = (row: ResourceRow) => (row.hasCredentials ? 'set' : 'not set');
const nameField = { key: 'name', label: 'Name', type: 'text', required: true } as const;

export const sourceRepositories: KindConfig<
  { provider: string; url: string; defaultBranch: string } & ResourceRow,
  CreateSourceRepositoryInput,
  UpdateSourceRepositoryInput
> = {
  slug: 'source-repositories',
  title: 'Source repositories',
  singular: 'source repository',
  plural: 'source repositories',
  list: SourceRepositoriesQuery,
  create: CreateSourceRepositoryMutation,
  update: UpdateSourceRepositoryMutation,
  remove: DeleteSourceRepositoryMutation,
  test: TestSourceRepositoryMutation,
  fields: [
    nameField,
    {
      key: 'provider',
      label: 'Provider',
      type: 'select',
      required: true,
      options: [
        { value: 'GITHUB', label: 'GitHub' },
        { value: 'GITLAB', label: 'GitLab' },
      ],
    },
    { key: 'url', label: 'URL', type: 'text', required: true, placeholder: 'https://github.com/acme/app.git', hint: 'HTTPS clone URL' },
    { key: 'defaultBranch', label: 'Default branch', type: 'text', placeholder: 'main', hint: 'Default: main' },
    { key: 'token', label: 'Token', type: 'secret', hint: 'Access token with read access', isSet: (r) => r.hasCredentials },
  ],
  columns: [
    { header: 'Provider', cell: (r) => (r.provider === 'GITLAB' ? 'GitLab' : 'GitHub') },
    { header: 'URL', cell: (r) => r.url, mono: true },
    { header: 'Default branch', cell: (r) => r.defaultBranch, mono: true },
    { header: 'Token', cell: credentials },
  ],
};

export const buildTools: KindConfig<{ kind: string; url: string; username: string | null } & ResourceRow, CreateBuildToolInput, UpdateBuildToolInput> = {
  slug: 'build-tools',
  title: 'Build tools',
  singular: 'build tool',
  plural: 'build tools',
  list: BuildToolsQuery,
  create: CreateBuildToolMutation,
  update: UpdateBuildToolMutation,
  remove: DeleteBuildToolMutation,
  test: TestBuildToolMutation,
  fields: [
    nameField,
    { key: 'kind', label: 'Kind', type: 'select', required: true, options: [{ value: 'JENKINS', label: 'Jenkins' }] },
    { key: 'url', label: 'URL', type: 'text', required: true, placeholder: 'https://jenkins.example.com/' },
    { key: 'username', label: 'Username', type: 'text' },
    { key: 'apiToken', label: 'API token', type: 'secret', hint: 'Jenkins API token of the user', isSet: (r) => r.hasCredentials },
  ],
  columns: [
    { header: 'Kind', cell: (r) => (r.kind === 'JENKINS' ? 'Jenkins' : r.kind) },
    { header: 'URL', cell: (r) => r.url, mono: true },
    { header: 'Username', cell: (r) => r.username ?? '—' },
    { header: 'API token', cell: credentials },
  ],
};

export const imageRegistries: KindConfig<
  { url: string; namespace: string | null; insecure: boolean; username: string | null } & ResourceRow,
  CreateImageRegistryInput,
  UpdateImageRegistryInput
> = {
  slug: 'image-registries',
  title: 'Image registries',
  singular: 'image registry',
  plural: 'image registries',
  list: ImageRegistriesQuery,
  create: CreateImageRegistryMutation,
  update: UpdateImageRegistryMutation,
  remove: DeleteImageRegistryMutation,
  test: TestImageRegistryMutation,
  fields: [
    nameField,
    { key: 'url', label: 'URL', type: 'text', required: true, placeholder: 'registry.example.com', hint: 'host[:port], or a URL with scheme' },
    { key: 'namespace', label: 'Namespace', type: 'text', placeholder: 'team/apps', hint: 'Repository path prefix' },
    { key: 'insecure', label: 'Insecure', type: 'checkbox', hint: 'Plain HTTP, or HTTPS with an untrusted certificate' },
    { key: 'username', label: 'Username', type: 'text' },
    { key: 'password', label: 'Password', type: 'secret', hint: 'Password or access token', isSet: (r) => r.hasCredentials },
  ],
  columns: [
    { header: 'URL', cell: (r) => r.url, mono: true },
    { header: 'Namespace', cell: (r) => r.namespace ?? '—', mono: true },
    { header: 'Insecure', cell: (r) => (r.insecure ? 'yes' : 'no') },
    { header: 'Username', cell: (r) => r.username ?? '—' },
    { header: 'Password', cell: credentials },
  ],
};

export const chartRepositories: KindConfig<
  { url: string; username: string | null } & ResourceRow,
  CreateChartRepositoryInput,
  UpdateChartRepositoryInput
> = {
  slug: 'chart-repositories',
  title: 'Chart repositories',
  singular: 'chart repository',
  plural: 'chart repositories',
  list: ChartRepositoriesQuery,
  create: CreateChartRepositoryMutation,
  update: UpdateChartRepositoryMutation,
  remove: DeleteChartRepositoryMutation,
  test: TestChartRepositoryMutation,
  fields: [
    nameField,
    { key: 'url', label: 'URL', type: 'text', required: true, placeholder: 'https://charts.example.com', hint: 'HTTP(S) with an index.yaml (Bake does not fetch from an oci:// registry yet)' },
    { key: 'username', label: 'Username', type: 'text' },
    { key: 'password', label: 'Password', type: 'secret', isSet: (r) => r.hasCredentials },
  ],
  columns: [
    { header: 'URL', cell: (r) => r.url, mono: true },
    { header: 'Username', cell: (r) => r.username ?? '—' },
    { header: 'Password', cell: credentials },
  ],
};

const authMethodLabel: Record<string, string> = { TOKEN: 'Token', CLIENT_CERTIFICATE: 'Client certificate', NONE: 'None' };

export const deploymentTargets: KindConfig<
  {
    apiServerUrl: string;
    authMethod: string;
    caCertificate: string | null;
    clientCertificate: string | null;
    defaultNamespace: string;
    insecureSkipTlsVerify: boolean;
  } & ResourceRow,
  CreateDeploymentTargetInput,
  UpdateDeploymentTargetInput
> = {
  slug: 'deployment-targets',
  title: 'Deployment targets',
  singular: 'deployment target',
  plural: 'deployment targets',
  list: DeploymentTargetsQuery,
  create: CreateDeploymentTargetMutation,
  update: UpdateDeploymentTargetMutation,
  remove: DeleteDeploymentTargetMutation,
  test: TestDeploymentTargetMutation,
  fields: [
    nameField,
    {
      key: 'kubeconfig',
      label: 'Kubeconfig',
      type: 'secret-textarea',
      hint: 'A kubeconfig (YAML) with embedded credentials: its current context sets the connection; the fields you fill in (or change) below win.',
      isSet: () => false,
      stateText: () => 'not stored',
      noClear: true,
    },
    { key: 'apiServerUrl', label: 'API server URL', type: 'text', placeholder: 'https://k8s.example.com:6443' },
    { key: 'caCertificate', label: 'CA certificate', type: 'textarea', placeholder: '-----BEGIN CERTIFICATE-----', hint: 'PEM CA bundle the API server is verified with' },
    { key: 'insecureSkipTlsVerify', label: 'Insecure skip TLS verify', type: 'checkbox', hint: 'Do not verify the API server certificate' },
    { key: 'token', label: 'Token', type: 'secret', hint: 'Bearer token, e.g. of a service account', isSet: (r) => r.authMethod === 'TOKEN' },
    { key: 'clientCertificate', label: 'Client certificate', type: 'textarea', placeholder: '-----BEGIN CERTIFICATE-----' },
    {
      key: 'clientKey',
      label: 'Client key',
      type: 'secret-textarea',
      hint: 'PEM key of the client certificate',
      isSet: (r) => r.authMethod === 'CLIENT_CERTIFICATE',
    },
    { key: 'defaultNamespace', label: 'Default namespace', type: 'text', placeholder: 'default', hint: 'Default: the kubeconfig context namespace, else "default"' },
  ],
  columns: [
    { header: 'API server URL', cell: (r) => r.apiServerUrl, mono: true },
    { header: 'Authentication', cell: (r) => authMethodLabel[r.authMethod] ?? r.authMethod },
    { header: 'Default namespace', cell: (r) => r.defaultNamespace, mono: true },
    { header: 'TLS', cell: (r) => (r.insecureSkipTlsVerify ? 'not verified' : r.caCertificate ? 'custom CA' : 'verified') },
  ],
};

export const secrets: KindConfig<ResourceRow, CreateSecretInput, UpdateSecretInput> = {
  slug: 'secrets',
  title: 'Secrets',
  singular: 'secret',
  plural: 'secrets',
  list: SecretsQuery,
  create: CreateSecretMutation,
  update: UpdateSecretMutation,
  remove: DeleteSecretMutation,
  test: TestSecretMutation,
  testable: false,
  searchBy: 'name',
  fields: [
    {
      key: 'name',
      label: 'Name',
      type: 'text',
      required: true,
      placeholder: 'SLACK_WEBHOOK_TOKEN',
      hint: 'Stages use it as ${secrets.NAME} (webhook URL, headers and body; Jenkins parameters). Letters, digits and "_", not starting with a digit',
    },
    {
      key: 'value',
      label: 'Value',
      type: 'secret',
      required: true,
      hint: 'Write-only: sealed at rest, filled in only when a stage runs, masked in outputs, errors and logs',
      isSet: (r) => r.hasCredentials,
      noClear: true,
    },
  ],
  columns: [
    { header: 'Reference', cell: (r) => `\${secrets.${r.name}}`, mono: true },
    { header: 'Value', cell: credentials },
  ],
};
