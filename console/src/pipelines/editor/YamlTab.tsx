import { useEffect, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { parse } from 'yaml';
import type { PipelineEditorFieldsFragment } from '../../gql/graphql';
import { fieldErrors } from '../../ui/errors';
import { ErrorState, Loading, MutationError, errorMessage } from '../../ui/states';
import { PipelineExportQuery, PipelineImportMutation } from '../operations';

export interface YamlTabProps {
  pipelineId: string;
  projectId: string;
  name: string;
  revision: number;
  dirty: boolean;
  readOnly: boolean;
  /** After an import: the pipeline it saved (this one, or another one when the YAML names another). */
  onImported: (p: PipelineEditorFieldsFragment) => void;
}

function yamlName(text: string): string | null {
  try {
    const doc: unknown = parse(text);
    return typeof doc === 'object' && doc !== null && 'name' in doc && typeof doc.name === 'string' ? doc.name : null;
  } catch {
    return null;
  }
}

/** The saved revision as YAML: edit and "Import" it (a new revision, by name), or "Download" it. */
export function YamlTab({ pipelineId, projectId, name, revision, dirty, readOnly, onImported }: YamlTabProps) {
  const [{ data, fetching, error }] = useQuery({ query: PipelineExportQuery, variables: { id: pipelineId, revision } });
  const exported = data?.exportPipeline;
  const [text, setText] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [result, importPipeline] = useMutation(PipelineImportMutation);
  useEffect(() => setText(null), [exported]);
  const value = text ?? exported ?? '';
  const edited = text !== null && text !== exported;
  // The server's problems one per line (`stages.0.config.replicas: must be at least 0`).
  const problems = Object.entries(fieldErrors(result.error));

  const run = async () => {
    setConfirming(null);
    setNotice(null);
    const r = await importPipeline({ yaml: value, mode: 'REPLACE', projectId });
    const p = r.data?.importPipeline;
    if (!p) return;
    setText(null);
    setNotice(p.id === pipelineId ? `Imported as revision ${p.revision}.` : `Imported as the pipeline "${p.name}" (revision ${p.revision}).`);
    onImported(p);
  };
  const start = () => {
    const named = yamlName(value);
    const warnings = [
      named !== null && named !== name && `The YAML names the pipeline "${named}", not "${name}": importing saves (or creates) the pipeline "${named}" instead of this one.`,
      dirty && 'Your unsaved changes in the editor will be replaced.',
    ].filter(Boolean);
    if (warnings.length) setConfirming(warnings.join(' '));
    else void run();
  };

  if (error) return <ErrorState message={errorMessage(error)} />;
  if (fetching && exported === undefined) return <Loading label="Exporting the pipeline" />;
  return (
    <section className="panel yaml-tab" aria-label="YAML">
      <div className="field">
        <label htmlFor="pipeline-yaml">Pipeline YAML</label>
        <textarea
          id="pipeline-yaml"
          rows={24}
          spellCheck={false}
          value={value}
          readOnly={readOnly}
          aria-describedby="pipeline-yaml-hint"
          aria-invalid={Boolean(result.error) || undefined}
          onChange={(e) => setText(e.target.value)}
        />
        <p id="pipeline-yaml-hint" className="hint">
          Revision {revision} as saved{dirty ? ' (your unsaved changes are not in it: save first)' : ''}. Import saves the YAML as a new revision of the pipeline it names.
        </p>
      </div>
      {confirming && (
        <div className="confirm" role="alertdialog" aria-label="Confirm import">
          <p>{confirming}</p>
          <div className="actions">
            <button type="button" className="primary" onClick={() => void run()}>
              Import anyway
            </button>
            <button type="button" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      <div className="actions">
        {!readOnly && (
          <button type="button" className="primary" onClick={start} disabled={result.fetching || !value.trim()}>
            {result.fetching ? 'Importing…' : 'Import'}
          </button>
        )}
        {!readOnly && (
          <button type="button" onClick={() => setText(null)} disabled={!edited}>
            Reset text
          </button>
        )}
        <a className="button-link" href={`data:application/yaml;charset=utf-8,${encodeURIComponent(value)}`} download={`${name.replace(/[^A-Za-z0-9._-]+/g, '-') || 'pipeline'}.yaml`}>
          Download
        </a>
        {notice && (
          <span role="status" className="muted">
            {notice}
          </span>
        )}
      </div>
      {problems.length ? (
        <ul className="mutation-error problem-list" role="alert" aria-label="Import problems">
          {problems.map(([field, message]) => (
            <li key={field}>
              {field === 'yaml' ? '' : `${field}: `}
              {message}
            </li>
          ))}
        </ul>
      ) : (
        <MutationError error={result.error} />
      )}
    </section>
  );
}
