import { Fragment, useCallback, useEffect, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { useProject } from '../projects/ProjectContext';
import { Pager, usePager } from '../ui/Pager';
import { Empty, ErrorState, Loading, errorMessage } from '../ui/states';
import { DeleteDialog } from './DeleteDialog';
import type { KindConfig, ResourceRow } from './kinds';
import { ProbeStatus, type ProbeState } from './ProbeStatus';
import { ResourceForm } from './ResourceForm';

const formatTime = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** One kind's table in the current project: search, server paging, create/edit/delete, test connection. */
export function ResourceTab<Row extends ResourceRow, C, U>({ kind }: { kind: KindConfig<Row, C, U> }) {
  const project = useProject();
  const pager = usePager();
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  const { reset } = pager;
  useEffect(() => {
    const next = text.trim();
    if (next === search) return;
    const t = setTimeout(() => {
      setSearch(next);
      reset();
    }, 250);
    return () => clearTimeout(t);
  }, [text, search, reset]);

  const variables = { projectId: project.id, ...pager.variables, search: search || null };
  const [{ data, fetching, error }, reexecute] = useQuery({ query: kind.list, variables });
  const refetch = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);

  const [editing, setEditing] = useState<Row | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Row | null>(null);
  const closeForm = useCallback(() => setEditing(null), []);
  const closeDelete = useCallback(() => setDeleting(null), []);

  const [probes, setProbes] = useState<Record<string, ProbeState>>({});
  const [, test] = useMutation(kind.test);
  const runTest = async (row: Row) => {
    setProbes((p) => ({ ...p, [row.id]: { running: true } }));
    const r = await test({ id: row.id });
    setProbes((p) => ({ ...p, [row.id]: { running: false, result: r.data?.probe, error: r.error } }));
  };
  const dismissProbe = (id: string) =>
    setProbes((p) => {
      const { [id]: _gone, ...rest } = p;
      void _gone;
      return rest;
    });

  const list = data?.list;
  const rows = list?.edges.map((e) => e.node) ?? [];
  const admin = project.canAdmin;
  const colCount = 3 + kind.columns.length;

  let body;
  if (error && !list) body = <ErrorState title={`Could not load the ${kind.plural}`} message={errorMessage(error)} action={<button type="button" onClick={refetch}>Retry</button>} />;
  else if (!list) body = <Loading label={`Loading ${kind.plural}`} />;
  else if (!rows.length)
    body = search ? (
      <Empty title={`No ${kind.plural} match “${search}”`}>Search looks at the name and URL.</Empty>
    ) : (
      <Empty title={`No ${kind.plural} yet`}>{admin ? `Add one with “New ${kind.singular}”.` : 'A project admin can add them.'}</Empty>
    );
  else
    body = (
      <>
        {error && <p className="mutation-error" role="alert">{errorMessage(error)}</p>}
        <table className="env-table" aria-label={kind.title} aria-busy={fetching || undefined}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              {kind.columns.map((c) => (
                <th scope="col" key={c.header}>
                  {c.header}
                </th>
              ))}
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const probe = probes[row.id];
              return (
                <Fragment key={row.id}>
                  <tr>
                    <th scope="row" className="env-name">
                      {row.name}
                    </th>
                    {kind.columns.map((c) => (
                      <td key={c.header} className={c.mono ? 'mono env-wrap' : undefined}>
                        {c.cell(row)}
                      </td>
                    ))}
                    <td className="env-updated" title={`by ${row.updatedBy}`}>
                      {formatTime(row.updatedAt)}
                      <div className="muted">{row.updatedBy}</div>
                    </td>
                    <td className="env-actions">
                      {admin && (
                        <>
                          {kind.testable !== false && (
                            <button type="button" onClick={() => void runTest(row)} disabled={probe?.running} aria-label={`Test connection ${row.name}`}>
                              {probe?.running && <span className="spinner" aria-hidden />} Test connection
                            </button>
                          )}
                          <button type="button" onClick={() => setEditing(row)} aria-label={`Edit ${row.name}`}>
                            Edit
                          </button>
                          <button type="button" className="danger" onClick={() => setDeleting(row)} aria-label={`Delete ${row.name}`}>
                            Delete
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                  {probe && (
                    <tr className="probe-row">
                      <td colSpan={colCount}>
                        <ProbeStatus name={row.name} state={probe} onDismiss={() => dismissProbe(row.id)} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
        <Pager pager={pager} pageInfo={list.pageInfo} totalCount={list.totalCount} />
      </>
    );

  const searchId = `env-${kind.slug}-search`;
  return (
    <section>
      <div className="toolbar">
        <label htmlFor={searchId} className="visually-hidden">
          Search {kind.plural}
        </label>
        <input id={searchId} type="search" placeholder={`Search ${kind.plural} by ${kind.searchBy ?? 'name or URL'}`} value={text} onChange={(e) => setText(e.target.value)} className="env-search" />
        {fetching && list && <span className="spinner" aria-label="Loading" />}
        <span className="spacer" />
        {admin ? (
          <button type="button" className="primary" onClick={() => setEditing('new')}>
            New {kind.singular}
          </button>
        ) : (
          <span className="muted">Read-only: only project admins change these settings or test connections.</span>
        )}
      </div>
      {body}
      {editing && (
        <ResourceForm
          kind={kind}
          row={editing === 'new' ? null : editing}
          projectId={project.id}
          onClose={closeForm}
          onSaved={() => {
            if (editing !== 'new') dismissProbe(editing.id);
            setEditing(null);
            refetch();
          }}
        />
      )}
      {deleting && (
        <DeleteDialog
          kind={kind}
          row={deleting}
          onClose={closeDelete}
          onDeleted={() => {
            setDeleting(null);
            refetch();
          }}
        />
      )}
    </section>
  );
}
