import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { useProject } from '../../projects/ProjectContext';
import { Modal } from '../../ui/Modal';
import { MutationError } from '../../ui/states';
import { PipelineImportMutation } from '../operations';

/** A new pipeline from YAML (as exported); CREATE fails when the name is taken. */
export function ImportPipelineDialog({ onClose }: { onClose: () => void }) {
  const project = useProject();
  const navigate = useNavigate();
  const [yaml, setYaml] = useState('');
  const [result, importPipeline] = useMutation(PipelineImportMutation);
  const submit = async () => {
    const r = await importPipeline({ yaml, mode: 'CREATE', projectId: project.id });
    if (r.data) navigate(`/p/${project.slug}/pipelines/${r.data.importPipeline.id}`);
  };
  return (
    <Modal title="Import pipeline" onClose={onClose}>
      <div className="field">
        <label htmlFor="import-pipeline-yaml">Pipeline YAML</label>
        <textarea id="import-pipeline-yaml" rows={16} spellCheck={false} value={yaml} onChange={(e) => setYaml(e.target.value)} aria-invalid={Boolean(result.error) || undefined} />
        <p className="hint">apiVersion: pipewright.dev/v1, kind: Pipeline, name, stages, ... (as the editor's YAML tab exports it).</p>
      </div>
      <MutationError error={result.error} />
      <div className="actions">
        <button type="button" className="primary" onClick={() => void submit()} disabled={result.fetching || !yaml.trim()}>
          {result.fetching ? 'Importing…' : 'Import'}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}
