import { graphql } from '../../gql';

export const RunPageRunFields = graphql(`
  fragment RunPageRunFields on Run {
    id
    number
    status
    projectId
    pipelineId
    pipelineName
    revision
    parameters
    artifacts
    reason
    sequence
    parentRunId
    trigger {
      type
      triggerId
      deliveryId
      summary
    }
    createdBy
    createdAt
    startedAt
    finishedAt
    stages {
      refId
      name
      type
      status
      attempt
      outputs
      error
      prompt
      decision {
        decision
        value
        comment
        by
        at
      }
      startedAt
      finishedAt
      restartedBy
      restartedAt
    }
  }
`);

export const RunPageRunQuery = graphql(`
  query RunPageRun($id: ID!) {
    run(id: $id) {
      ...RunPageRunFields
    }
  }
`);

// The same fragment as the query: the gateway sends a subscription's fragments along with its selection.
export const RunPageRunUpdated = graphql(`
  subscription RunPageRunUpdated($runId: ID!, $afterSequence: Int) {
    runUpdated(runId: $runId, afterSequence: $afterSequence) {
      ...RunPageRunFields
    }
  }
`);

export const RunPagePipelineQuery = graphql(`
  query RunPagePipeline($id: ID!, $revision: Int) {
    pipeline(id: $id, revision: $revision) {
      id
      name
      revision
      latestRevision
      stages {
        refId
        name
        type
        dependsOn
        config
        failurePolicy
        timeoutSeconds
        retry {
          maxAttempts
          backoffSeconds
        }
        startCondition
        endCondition
      }
    }
  }
`);

export const RunPageCancelRun = graphql(`
  mutation RunPageCancelRun($runId: ID!, $reason: String) {
    cancelRun(runId: $runId, reason: $reason) {
      id
      status
      sequence
    }
  }
`);

export const RunPageJudge = graphql(`
  mutation RunPageJudge($runId: ID!, $refId: ID!, $decision: Decision!, $value: String) {
    judge(runId: $runId, refId: $refId, decision: $decision, value: $value) {
      refId
      status
    }
  }
`);

export const RunPageApprove = graphql(`
  mutation RunPageApprove($runId: ID!, $refId: ID!, $decision: Decision!, $comment: String) {
    approve(runId: $runId, refId: $refId, decision: $decision, comment: $comment) {
      refId
      status
    }
  }
`);

export const RunPageRestartStage = graphql(`
  mutation RunPageRestartStage($runId: ID!, $refId: ID!) {
    restartStage(runId: $runId, refId: $refId) {
      id
      status
      sequence
    }
  }
`);

export const RunPageStageBuilds = graphql(`
  query RunPageStageBuilds($runId: ID!, $stageRefId: ID!) {
    builds(runId: $runId, stageRefId: $stageRefId, first: 5) {
      totalCount
      edges {
        node {
          id
          number
          status
          image
          startedAt
          finishedAt
        }
      }
    }
  }
`);
