import { graphql } from '../gql';

export const PipelineFieldsFragment = graphql(`
  fragment PipelineEditorFields on Pipeline {
    id
    projectId
    name
    description
    revision
    latestRevision
    maxConcurrentRuns
    updatedAt
    updatedBy
    parameters {
      name
      label
      description
      default
      required
      options
    }
    stages {
      refId
      name
      type
      dependsOn
      config
      startCondition
      endCondition
      failurePolicy
      timeoutSeconds
      retry {
        maxAttempts
        backoffSeconds
      }
    }
  }
`);

export const PipelineListQuery = graphql(`
  query PipelineList($projectId: ID, $first: Int, $after: String, $search: String) {
    pipelines(projectId: $projectId, first: $first, after: $after, search: $search) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          name
          description
          latestRevision
          updatedAt
          updatedBy
          stages {
            refId
          }
        }
      }
    }
  }
`);

export const PipelineCreateMutation = graphql(`
  mutation PipelineCreate($input: CreatePipelineInput!) {
    createPipeline(input: $input) {
      id
      name
    }
  }
`);

export const PipelineImportMutation = graphql(`
  mutation PipelineImport($yaml: String!, $mode: ImportMode!, $projectId: ID) {
    importPipeline(yaml: $yaml, mode: $mode, projectId: $projectId) {
      ...PipelineEditorFields
    }
  }
`);

export const PipelineEditorQuery = graphql(`
  query PipelineEditor($id: ID!) {
    pipeline(id: $id) {
      ...PipelineEditorFields
    }
  }
`);

export const PipelineStageTypesQuery = graphql(`
  query PipelineStageTypes {
    stageTypes {
      type
      group
      label
      description
      configSchema
    }
  }
`);

export const PipelineSaveMutation = graphql(`
  mutation PipelineEditorSave($id: ID!, $expectedRevision: Int!, $input: CreatePipelineInput!) {
    updatePipeline(id: $id, expectedRevision: $expectedRevision, input: $input) {
      ...PipelineEditorFields
    }
  }
`);

export const PipelineRestoreMutation = graphql(`
  mutation PipelineEditorRestore($id: ID!, $revision: Int!, $expectedRevision: Int) {
    restorePipelineRevision(id: $id, revision: $revision, expectedRevision: $expectedRevision) {
      ...PipelineEditorFields
    }
  }
`);

export const PipelineExportQuery = graphql(`
  query PipelineEditorExport($id: ID!, $revision: Int) {
    exportPipeline(id: $id, revision: $revision)
  }
`);

export const PipelineRevisionsQuery = graphql(`
  query PipelineEditorRevisions($id: ID!, $first: Int, $after: String) {
    pipelineRevisions(id: $id, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          revision
          note
          stageCount
          createdAt
          createdBy
        }
      }
    }
  }
`);

/** The resource pickers: each kind's resources of the project, by name (aliased to one shape). */
export const ResourceQueries = {
  SOURCE_REPOSITORY: graphql(`
    query PipelineEditorSourceRepositories($projectId: ID, $first: Int) {
      items: sourceRepositories(projectId: $projectId, first: $first) {
        totalCount
        edges {
          node {
            id
            name
          }
        }
      }
    }
  `),
  BUILD_TOOL: graphql(`
    query PipelineEditorBuildTools($projectId: ID, $first: Int) {
      items: buildTools(projectId: $projectId, first: $first) {
        totalCount
        edges {
          node {
            id
            name
          }
        }
      }
    }
  `),
  IMAGE_REGISTRY: graphql(`
    query PipelineEditorImageRegistries($projectId: ID, $first: Int) {
      items: imageRegistries(projectId: $projectId, first: $first) {
        totalCount
        edges {
          node {
            id
            name
          }
        }
      }
    }
  `),
  CHART_REPOSITORY: graphql(`
    query PipelineEditorChartRepositories($projectId: ID, $first: Int) {
      items: chartRepositories(projectId: $projectId, first: $first) {
        totalCount
        edges {
          node {
            id
            name
          }
        }
      }
    }
  `),
  DEPLOYMENT_TARGET: graphql(`
    query PipelineEditorDeploymentTargets($projectId: ID, $first: Int) {
      items: deploymentTargets(projectId: $projectId, first: $first) {
        totalCount
        edges {
          node {
            id
            name
          }
        }
      }
    }
  `),
  PIPELINE: graphql(`
    query PipelineEditorPipelines($projectId: ID, $first: Int) {
      items: pipelines(projectId: $projectId, first: $first) {
        totalCount
        edges {
          node {
            id
            name
          }
        }
      }
    }
  `),
};
