import { graphql } from '../../gql';

export const RunsListRunFields = graphql(`
  fragment RunsListRunFields on Run {
    id
    number
    status
    pipelineId
    pipelineName
    revision
    sequence
    createdAt
    createdBy
    startedAt
    finishedAt
    trigger {
      type
      triggerId
      deliveryId
      summary
    }
  }
`);

export const RunsListQuery = graphql(`
  query RunsList($projectId: ID, $pipelineId: ID, $status: RunStatus, $first: Int, $after: String) {
    runs(projectId: $projectId, pipelineId: $pipelineId, status: $status, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...RunsListRunFields
        }
      }
    }
  }
`);

export const RunsListPipelineQuery = graphql(`
  query RunsListPipeline($id: ID!) {
    pipeline(id: $id) {
      id
      name
      projectId
    }
  }
`);

export const RunsListRunsUpdated = graphql(`
  subscription RunsListRunsUpdated($pipelineId: ID!) {
    runsUpdated(pipelineId: $pipelineId) {
      ...RunsListRunFields
    }
  }
`);
