import { useCallback, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { RunPipelineButtonPipelineQuery } from '../gql/graphql';
import { useProject } from '../projects/ProjectContext';
import { fieldErrors } from '../ui/errors';
import { FieldError, fieldErrorId } from '../ui/FieldError';
import { Modal } from '../ui/Modal';
import { ErrorState, Loading, MutationError, errorMessage } from '../ui/states';
import { runUrl } from './format';
import './runs.css';

export const RunPipelineButtonPipeline = graphql(`
  query RunPipelineButtonPipeline($id: ID!) {
    pipeline(id: $id) {
      id
      name
      latestRevision
      parameters {
        name
        label
        description
        default
        required
        options
      }
    }
  }
`);

export const RunPipelineButtonRun = graphql(`
  mutation RunPipelineButtonRun($pipelineId: ID!, $parameters: JSON) {
    runPipeline(pipelineId: $pipelineId, parameters: $parameters) {
      id
      number
    }
  }
`);

type Parameter = NonNullable<RunPipelineButtonPipelineQuery['pipeline']>['parameters'][number];

const initialValues = (params: readonly Parameter[]) => Object.fromEntries(params.map((p) => [p.name, p.default ?? '']));

function ParameterField({ p, value, onChange, error }: { p: Parameter; value: string; onChange: (v: string) => void; error?: string }) {
  const id = `run-param-${p.name}`;
  const hintId = `${id}-hint`;
  const describedBy = [p.description || p.label || p.required || p.default ? hintId : null, error ? fieldErrorId(id) : null].filter(Boolean).join(' ') || undefined;
  const common = { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy, 'aria-required': p.required || undefined } as const;
  const multiline = (p.default ?? '').includes('\n');
  return (
    <>
      <label htmlFor={id}>{p.name}</label>
      <div className="field">
        {p.options?.length ? (
          <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
            {(!p.default || !p.options.includes(p.default)) && <option value="">{p.required ? '— choose —' : '(none)'}</option>}
            {p.options.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        ) : multiline ? (
          <textarea {...common} rows={4} value={value} onChange={(e) => onChange(e.target.value)} />
        ) : (
          <input {...common} type="text" value={value} onChange={(e) => onChange(e.target.value)} />
        )}
        {(p.description || p.label || p.required || p.default) && (
          <span id={hintId} className="hint">
            {[p.required ? 'Required.' : null, p.label && p.label !== p.name ? `${p.label}.` : null, p.description, p.default ? `Default: ${p.default}.` : null].filter(Boolean).join(' ')}
          </span>
        )}
        <FieldError id={id} message={error} />
      </div>
    </>
  );
}

function RunForm({ pipeline, onClose }: { pipeline: NonNullable<RunPipelineButtonPipelineQuery['pipeline']>; onClose: () => void }) {
  const project = useProject();
  const navigate = useNavigate();
  const [values, setValues] = useState<Record<string, string>>(() => initialValues(pipeline.parameters));
  const [result, run] = useMutation(RunPipelineButtonRun);
  const errors = fieldErrors(result.error);
  const claimed = new Set(pipeline.parameters.map((p) => `parameters.${p.name}`));
  const unclaimed = result.error && (Object.keys(errors).length === 0 || Object.keys(errors).some((k) => !claimed.has(k)));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parameters = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
    const r = await run({ pipelineId: pipeline.id, parameters });
    if (r.data?.runPipeline) navigate(runUrl(project.slug, r.data.runPipeline.id));
  };

  return (
    <form onSubmit={submit} noValidate>
      {pipeline.parameters.length ? (
        <div className="form-grid">
          {pipeline.parameters.map((p) => (
            <ParameterField key={p.name} p={p} value={values[p.name] ?? ''} error={errors[`parameters.${p.name}`]} onChange={(v) => setValues((s) => ({ ...s, [p.name]: v }))} />
          ))}
        </div>
      ) : (
        <p className="muted">This pipeline has no parameters: revision {pipeline.latestRevision} runs as it is.</p>
      )}
      {unclaimed && <MutationError error={result.error} />}
      <div className="actions">
        <button type="submit" className="primary" disabled={result.fetching}>
          Start run
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
        {result.fetching && <span className="muted">Starting…</span>}
      </div>
    </form>
  );
}

/** A "Run" button: the pipeline's parameters form in a dialog, then the new run's page. */
export function RunPipelineButton({ pipelineId }: { pipelineId: string }) {
  const project = useProject();
  const [open, setOpen] = useState(false);
  const [{ data, fetching, error }] = useQuery({ query: RunPipelineButtonPipeline, variables: { id: pipelineId } });
  const pipeline = data?.pipeline;
  const close = useCallback(() => setOpen(false), []);
  return (
    <>
      <button
        type="button"
        className="primary"
        disabled={!project.canWrite}
        title={project.canWrite ? undefined : 'Running a pipeline needs DEVELOPER or ADMIN in this project'}
        onClick={() => setOpen(true)}
      >
        Run
      </button>
      {open && (
        <Modal title={`Run ${pipeline?.name ?? 'pipeline'}`} onClose={close}>
          {error ? (
            <ErrorState message={errorMessage(error)} />
          ) : pipeline ? (
            <RunForm pipeline={pipeline} onClose={close} />
          ) : fetching ? (
            <Loading label="Loading the pipeline" />
          ) : (
            <ErrorState message={`There is no pipeline ${pipelineId}.`} />
          )}
        </Modal>
      )}
    </>
  );
}
