import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { useProject } from '../../projects/ProjectContext';
import { Pager, usePager } from '../../ui/Pager';
import { Empty, ErrorState, Loading, errorMessage } from '../../ui/states';
import { isBuildStageType, urls } from '../buildInfo';
import { BuildFilters } from './BuildFilters';
import { BuildsTable } from './BuildsTable';

export const BuildsPipelinesQuery = graphql(`
  query BuildsPipelines($projectId: ID) {
    pipelines(projectId: $projectId, first: 100) {
      totalCount
      edges {
        node {
          id
          name
          stages {
            refId
            name
            type
          }
        }
      }
    }
  }
`);

export const BuildsListQuery = graphql(`
  query BuildsList($projectId: ID, $pipelineId: ID, $stageRefId: ID, $first: Int, $after: String) {
    builds(projectId: $projectId, pipelineId: $pipelineId, stageRefId: $stageRefId, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          number
          status
          stageType
          stageRefId
          pipelineId
          runId
          runNumber
          image
          outputs
          queuedAt
          startedAt
          finishedAt
          durationSeconds
        }
      }
    }
  }
`);

export interface PipelineInfo {
  id: string;
  name: string;
  /** Its stages that make builds. */
  stages: { refId: string; name: string; type: string }[];
}

/** `/p/:project/builds?pipeline=&stage=`: the project's builds, newest first, paged on the server. */
export function BuildsListPage() {
  const project = useProject();
  const [params, setParams] = useSearchParams();
  const pipelineId = params.get('pipeline') || null;
  const stageRefId = (pipelineId && params.get('stage')) || null;

  const [pipelinesResult] = useQuery({ query: BuildsPipelinesQuery, variables: { projectId: project.id } });
  const pipelines = useMemo(() => {
    const map = new Map<string, PipelineInfo>();
    for (const e of pipelinesResult.data?.pipelines.edges ?? []) map.set(e.node.id, { id: e.node.id, name: e.node.name, stages: e.node.stages.filter((s) => isBuildStageType(s.type)) });
    return map;
  }, [pipelinesResult.data]);

  const setFilter = (next: { pipeline: string | null; stage: string | null }) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v) p.set(k, v);
      else p.delete(k);
    }
    setParams(p, { replace: true });
  };

  return (
    <div className="builds-page">
      <div className="page-header">
        <h1>Builds</h1>
      </div>
      <BuildFilters
        pipelines={pipelinesResult.data ? [...pipelines.values()] : null}
        pipelinesTotal={pipelinesResult.data?.pipelines.totalCount ?? 0}
        pipelinesError={pipelinesResult.error ? errorMessage(pipelinesResult.error) : null}
        pipelineId={pipelineId}
        stageRefId={stageRefId}
        onChange={setFilter}
      />
      {/* A new filter starts again at the first page. */}
      <BuildsResults key={`${pipelineId}/${stageRefId}`} projectId={project.id} slug={project.slug} pipelineId={pipelineId} stageRefId={stageRefId} pipelines={pipelines} />
    </div>
  );
}

function BuildsResults({ projectId, slug, pipelineId, stageRefId, pipelines }: { projectId: string; slug: string; pipelineId: string | null; stageRefId: string | null; pipelines: Map<string, PipelineInfo> }) {
  const pager = usePager();
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: BuildsListQuery,
    variables: { projectId, pipelineId, stageRefId, ...pager.variables },
  });
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  const builds = data?.builds;
  return (
    <>
      <div className="toolbar builds-toolbar">
        <span className="muted" aria-live="polite">
          {builds ? `${builds.totalCount} ${builds.totalCount === 1 ? 'build' : 'builds'}` : ''}
          {fetching && builds ? ' · refreshing…' : ''}
        </span>
        <span className="spacer" />
        <button type="button" onClick={refresh} disabled={fetching}>
          Refresh
        </button>
      </div>
      {error ? (
        <ErrorState
          title="Cannot load the builds"
          message={errorMessage(error)}
          action={
            <button type="button" onClick={refresh}>
              Try again
            </button>
          }
        />
      ) : !builds ? (
        <Loading label="Loading builds" />
      ) : builds.edges.length === 0 ? (
        <Empty title={pipelineId ? 'No builds match these filters' : 'No builds yet'}>
          Builds appear when a run reaches a Source, Build or Bake stage. {pipelineId && <Link to={urls.builds(slug)}>Show all builds</Link>}
        </Empty>
      ) : (
        <>
          <BuildsTable builds={builds.edges.map((e) => e.node)} pipelines={pipelines} />
          <Pager pager={pager} pageInfo={builds.pageInfo} totalCount={builds.totalCount} />
        </>
      )}
    </>
  );
}
