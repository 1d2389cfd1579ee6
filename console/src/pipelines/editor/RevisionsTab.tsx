import { diffLines } from 'diff';
import { useEffect, useMemo, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import type { PipelineEditorFieldsFragment } from '../../gql/graphql';
import { Modal } from '../../ui/Modal';
import { Pager, usePager } from '../../ui/Pager';
import { Empty, ErrorState, Loading, MutationError, QueryState, errorMessage } from '../../ui/states';
import { PipelineExportQuery, PipelineRestoreMutation, PipelineRevisionsQuery } from '../operations';

export interface RevisionsTabProps {
  pipelineId: string;
  latestRevision: number;
  /** The revision the editor's draft is based on (Restore expects it to be the latest). */
  baseRevision: number;
  dirty: boolean;
  readOnly: boolean;
  onRestored: (p: PipelineEditorFieldsFragment) => void;
}

interface Line {
  kind: 'add' | 'del' | 'same';
  text: string;
}

/** A line diff, unchanged runs longer than 2×context folded. */
export function diffRows(from: string, to: string, context = 3): (Line | { kind: 'fold'; count: number })[] {
  const lines: Line[] = diffLines(from, to).flatMap((part) => {
    const texts = part.value.replace(/\n$/, '').split('\n');
    return texts.map((text) => ({ kind: part.added ? 'add' : part.removed ? 'del' : 'same', text }) as Line);
  });
  const out: (Line | { kind: 'fold'; count: number })[] = [];
  for (let i = 0; i < lines.length; ) {
    if (lines[i].kind !== 'same') {
      out.push(lines[i++]);
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j].kind === 'same') j++;
    const run = lines.slice(i, j);
    const head = i === 0 ? 0 : context;
    const tail = j === lines.length ? 0 : context;
    if (run.length > head + tail + 1) {
      out.push(...run.slice(0, head), { kind: 'fold', count: run.length - head - tail }, ...run.slice(run.length - tail));
    } else out.push(...run);
    i = j;
  }
  return out;
}

function RevisionDiff({ pipelineId, from, to }: { pipelineId: string; from: number; to: number }) {
  const [a] = useQuery({ query: PipelineExportQuery, variables: { id: pipelineId, revision: from } });
  const [b] = useQuery({ query: PipelineExportQuery, variables: { id: pipelineId, revision: to } });
  const fromText = a.data?.exportPipeline;
  const toText = b.data?.exportPipeline;
  const rows = useMemo(() => (fromText !== undefined && toText !== undefined ? diffRows(fromText, toText) : null), [fromText, toText]);
  if (a.error || b.error) return <ErrorState message={errorMessage(a.error ?? b.error)} />;
  if (!rows) return <Loading label="Loading both revisions" />;
  const changed = rows.filter((r) => r.kind === 'add' || r.kind === 'del').length;
  return (
    <div>
      <p className="muted" aria-live="polite">
        {from === to ? 'The same revision.' : changed ? `${rows.filter((r) => r.kind === 'del').length} line(s) removed, ${rows.filter((r) => r.kind === 'add').length} added from revision ${from} to ${to}.` : `Revisions ${from} and ${to} are the same.`}
      </p>
      <pre className="yaml-diff" aria-label={`Differences from revision ${from} to ${to}`}>
        {rows.map((r, i) =>
          r.kind === 'fold' ? (
            <div key={i} className="diff-fold">
              … {r.count} unchanged line(s)
            </div>
          ) : (
            <div key={i} className={`diff-${r.kind}`}>
              <span className="diff-sign" aria-label={r.kind === 'add' ? 'added' : r.kind === 'del' ? 'removed' : undefined}>
                {r.kind === 'add' ? '+' : r.kind === 'del' ? '-' : ' '}
              </span>
              {r.text}
            </div>
          ),
        )}
      </pre>
    </div>
  );
}

/** The revisions (newest first, paged), a diff of any two, and Restore. */
export function RevisionsTab({ pipelineId, latestRevision, baseRevision, dirty, readOnly, onRestored }: RevisionsTabProps) {
  const pager = usePager();
  // The list changes with every save: refetch after any mutation that returns a Pipeline.
  const context = useMemo(() => ({ additionalTypenames: ['Pipeline'] }), []);
  const [{ data, fetching, error }] = useQuery({ query: PipelineRevisionsQuery, variables: { id: pipelineId, ...pager.variables }, context });
  const [from, setFrom] = useState(Math.max(1, latestRevision - 1));
  const [to, setTo] = useState(latestRevision);
  const [restoring, setRestoring] = useState<number | null>(null);
  const [result, restore] = useMutation(PipelineRestoreMutation);
  useEffect(() => {
    setTo(latestRevision);
    setFrom((f) => Math.min(f, latestRevision));
  }, [latestRevision]);
  const numbers = Array.from({ length: latestRevision }, (_, i) => latestRevision - i);
  const conn = data?.pipelineRevisions;

  const confirmRestore = async () => {
    if (restoring === null) return;
    const r = await restore({ id: pipelineId, revision: restoring, expectedRevision: baseRevision });
    if (r.data) {
      setRestoring(null);
      setTo(r.data.restorePipelineRevision.revision);
      setFrom(restoring);
      onRestored(r.data.restorePipelineRevision);
    }
  };

  return (
    <section className="revisions-tab" aria-label="Revisions">
      <div className="panel">
        <QueryState fetching={fetching && !conn} error={error} label="Loading revisions">
          {conn && conn.edges.length === 0 ? (
            <Empty title="No revisions" />
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Revision</th>
                  <th>Note</th>
                  <th>Stages</th>
                  <th>Saved</th>
                  <th>By</th>
                  <th>
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {conn?.edges.map(({ node: r }) => (
                  <tr key={r.revision}>
                    <td>
                      {r.revision}
                      {r.revision === latestRevision && <span className="status"> latest</span>}
                    </td>
                    <td>{r.note}</td>
                    <td>{r.stageCount}</td>
                    <td>{new Date(r.createdAt).toLocaleString()}</td>
                    <td>{r.createdBy}</td>
                    <td className="row-actions">
                      <button
                        type="button"
                        className="link"
                        aria-label={`Compare revision ${r.revision} with the latest`}
                        onClick={() => {
                          setFrom(r.revision);
                          setTo(latestRevision);
                        }}
                      >
                        Compare
                      </button>
                      {!readOnly && r.revision !== latestRevision && (
                        <button type="button" className="link" aria-label={`Restore revision ${r.revision}`} onClick={() => setRestoring(r.revision)}>
                          Restore
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <Pager pager={pager} pageInfo={conn?.pageInfo} totalCount={conn?.totalCount} />
        </QueryState>
      </div>
      <div className="panel">
        <div className="toolbar">
          <label htmlFor="revision-from">From revision</label>
          <select id="revision-from" value={from} onChange={(e) => setFrom(Number(e.target.value))}>
            {numbers.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
          <label htmlFor="revision-to">To revision</label>
          <select id="revision-to" value={to} onChange={(e) => setTo(Number(e.target.value))}>
            {numbers.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <RevisionDiff pipelineId={pipelineId} from={from} to={to} />
      </div>
      {restoring !== null && (
        <Modal title={`Restore revision ${restoring}`} onClose={() => setRestoring(null)}>
          <p>
            Save the content of revision {restoring} again as the newest revision ({latestRevision + 1})? The revisions in between are kept.
            {dirty && ' Your unsaved changes in the editor will be replaced.'}
          </p>
          <MutationError error={result.error} />
          <div className="actions">
            <button type="button" className="primary" onClick={() => void confirmRestore()} disabled={result.fetching}>
              {result.fetching ? 'Restoring…' : `Restore revision ${restoring}`}
            </button>
            <button type="button" onClick={() => setRestoring(null)}>
              Cancel
            </button>
          </div>
        </Modal>
      )}
    </section>
  );
}
