import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { useProject } from '../../projects/ProjectContext';
import { FieldError, fieldErrorId } from '../../ui/FieldError';
import { Modal } from '../../ui/Modal';
import { fieldErrors } from '../../ui/errors';
import { MutationError } from '../../ui/states';
import { PipelineCreateMutation } from '../operations';

/** "Create pipeline": a name and a description; the pipeline starts with no stages, then the editor opens. */
export function CreatePipelineDialog({ onClose }: { onClose: () => void }) {
  const project = useProject();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [result, create] = useMutation(PipelineCreateMutation);
  const errors = fieldErrors(result.error);
  const ext = result.error?.graphQLErrors[0]?.extensions;
  // A taken name is a CONFLICT naming the field.
  const nameError = errors.name ?? (ext?.code === 'CONFLICT' && ext.field === 'name' ? result.error?.graphQLErrors[0]?.message : undefined);
  const other = result.error && !nameError && !errors.description ? result.error : null;
  const submit = async () => {
    const r = await create({ input: { name, ...(description.trim() ? { description } : {}), projectId: project.id, stages: [] } });
    if (r.data) navigate(`/p/${project.slug}/pipelines/${r.data.createPipeline.id}`);
  };
  return (
    <Modal title="Create pipeline" onClose={onClose}>
      <form
        className="form-grid"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label htmlFor="create-pipeline-name">Name</label>
        <div className="field">
          <input id="create-pipeline-name" type="text" value={name} maxLength={100} aria-invalid={Boolean(nameError) || undefined} aria-describedby={nameError ? fieldErrorId('create-pipeline-name') : undefined} onChange={(e) => setName(e.target.value)} />
          <FieldError id="create-pipeline-name" message={nameError} />
        </div>
        <label htmlFor="create-pipeline-description">Description</label>
        <div className="field">
          <textarea id="create-pipeline-description" rows={3} value={description} aria-invalid={Boolean(errors.description) || undefined} onChange={(e) => setDescription(e.target.value)} />
          <FieldError id="create-pipeline-description" message={errors.description} />
        </div>
        <span />
        <div className="actions">
          <button type="submit" className="primary" disabled={result.fetching}>
            {result.fetching ? 'Creating…' : 'Create'}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
      <MutationError error={other} />
    </Modal>
  );
}
