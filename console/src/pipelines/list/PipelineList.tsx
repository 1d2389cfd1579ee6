import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { useProject } from '../../projects/ProjectContext';
import { Pager, usePager } from '../../ui/Pager';
import { Empty, QueryState } from '../../ui/states';
import { PipelineListQuery } from '../operations';
import '../pipelines.css';
import { CreatePipelineDialog } from './CreatePipelineDialog';
import { ImportPipelineDialog } from './ImportPipelineDialog';

/** `/p/:project/pipelines`: the project's pipelines by name, searched and paged on the server. */
export function PipelineList() {
  const project = useProject();
  const pager = usePager();
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  const [dialog, setDialog] = useState<'create' | 'import' | null>(null);
  const { reset } = pager;
  useEffect(() => {
    const t = window.setTimeout(() => {
      setSearch(typed.trim());
      reset();
    }, 250);
    return () => window.clearTimeout(t);
  }, [typed, reset]);
  const [{ data, fetching, error }] = useQuery({ query: PipelineListQuery, variables: { projectId: project.id, search: search || null, ...pager.variables } });
  const conn = data?.pipelines;
  const base = `/p/${project.slug}`;
  return (
    <div className="pipeline-list">
      <header className="page-header">
        <h1>Pipelines</h1>
        <span className="spacer" />
        {project.canWrite && (
          <>
            <button type="button" onClick={() => setDialog('import')}>
              Import pipeline
            </button>
            <button type="button" className="primary" onClick={() => setDialog('create')}>
              Create pipeline
            </button>
          </>
        )}
      </header>
      <div className="toolbar">
        <label htmlFor="pipeline-search" className="visually-hidden">
          Search pipelines
        </label>
        <input id="pipeline-search" type="search" placeholder="Search pipelines" value={typed} onChange={(e) => setTyped(e.target.value)} />
        {fetching && conn && <span className="muted">Updating…</span>}
      </div>
      <QueryState fetching={fetching && !conn} error={error} label="Loading pipelines">
        {conn && conn.edges.length === 0 ? (
          search ? (
            <Empty title={`No pipeline matches "${search}"`} />
          ) : (
            <Empty title="No pipelines yet">{project.canWrite ? 'Create one with "Create pipeline".' : 'Project developers can create them.'}</Empty>
          )
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Stages</th>
                <th>Latest revision</th>
                <th>Updated</th>
                <th>
                  <span className="visually-hidden">Links</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {conn?.edges.map(({ node: p }) => (
                <tr key={p.id}>
                  <td>
                    <Link to={`${base}/pipelines/${p.id}`}>{p.name}</Link>
                    {p.description && <div className="muted pipeline-description">{p.description}</div>}
                  </td>
                  <td>{p.stages.length}</td>
                  <td>{p.latestRevision}</td>
                  <td>
                    <time dateTime={p.updatedAt}>{new Date(p.updatedAt).toLocaleString()}</time>
                    <div className="muted">by {p.updatedBy}</div>
                  </td>
                  <td>
                    <Link to={`${base}/runs?pipeline=${p.id}`}>
                      Runs
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager pager={pager} pageInfo={conn?.pageInfo} totalCount={conn?.totalCount} />
      </QueryState>
      {dialog === 'create' && <CreatePipelineDialog onClose={() => setDialog(null)} />}
      {dialog === 'import' && <ImportPipelineDialog onClose={() => setDialog(null)} />}
    </div>
  );
}
