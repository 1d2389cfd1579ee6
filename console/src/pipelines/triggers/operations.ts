import { graphql } from '../../gql';

export const TriggerFieldsFragment = graphql(`
  fragment PipelineTriggerFields on Trigger {
    id
    pipelineId
    type
    name
    config
    enabled
    createdBy
    createdAt
    updatedAt
    hookUrl
    hasSecret
    nextFireAt
  }
`);

export const TriggersQuery = graphql(`
  query PipelineTriggers($pipelineId: ID!, $first: Int, $after: String) {
    triggers(pipelineId: $pipelineId, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...PipelineTriggerFields
        }
      }
    }
  }
`);

export const TriggerCreateMutation = graphql(`
  mutation PipelineTriggerCreate($input: CreateTriggerInput!) {
    createTrigger(input: $input) {
      secret
      trigger {
        ...PipelineTriggerFields
      }
    }
  }
`);

export const TriggerUpdateMutation = graphql(`
  mutation PipelineTriggerUpdate($id: ID!, $input: UpdateTriggerInput!) {
    updateTrigger(id: $id, input: $input) {
      ...PipelineTriggerFields
    }
  }
`);

export const TriggerDeleteMutation = graphql(`
  mutation PipelineTriggerDelete($id: ID!) {
    deleteTrigger(id: $id)
  }
`);

export const TriggerRotateSecretMutation = graphql(`
  mutation PipelineTriggerRotateSecret($id: ID!) {
    rotateTriggerSecret(id: $id) {
      secret
      trigger {
        ...PipelineTriggerFields
      }
    }
  }
`);

export const TriggerDeliveriesQuery = graphql(`
  query PipelineTriggerDeliveries($id: ID!, $first: Int, $after: String) {
    trigger(id: $id) {
      id
      deliveries(first: $first, after: $after) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            id
            receivedAt
            providerDeliveryId
            event
            outcome
            reason
            summary
            runId
            run {
              id
              number
              status
            }
            redeliveryOf
            canRedeliver
          }
        }
      }
    }
  }
`);

export const TriggerRedeliverMutation = graphql(`
  mutation PipelineTriggerRedeliver($id: ID!) {
    redeliverTriggerDelivery(id: $id) {
      id
      outcome
      redeliveryOf
    }
  }
`);
