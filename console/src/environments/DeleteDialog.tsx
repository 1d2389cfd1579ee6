import { Link } from 'react-router';
import { useMutation } from 'urql';
import { useProject } from '../projects/ProjectContext';
import { Modal } from '../ui/Modal';
import { MutationError } from '../ui/states';
import { conflictPipelines } from './form-model';
import type { KindConfig, ResourceRow } from './kinds';

/**
 * Asks before deleting. When the server refuses because pipelines use the resource (CONFLICT with
 * `extensions.pipelines`), lists them and offers "Delete anyway" (force).
 */
export function DeleteDialog<Row extends ResourceRow, C, U>({
  kind,
  row,
  onClose,
  onDeleted,
}: {
  kind: KindConfig<Row, C, U>;
  row: Row;
  /** Must be stable. */
  onClose: () => void;
  onDeleted: () => void;
}) {
  const { slug } = useProject();
  const [state, remove] = useMutation(kind.remove);
  const pipelines = conflictPipelines(state.error);
  const run = async (force: boolean) => {
    const result = await remove({ id: row.id, force });
    if (!result.error) onDeleted();
  };
  return (
    <Modal title={`Delete ${row.name}?`} onClose={onClose}>
      {pipelines ? (
        <div className="env-conflict" role="alert">
          <p>
            The {kind.singular} <strong>{row.name}</strong> is used by {pipelines.length === 1 ? 'a pipeline' : `${pipelines.length} pipelines`}, so it was not deleted:
          </p>
          <ul aria-label="Pipelines that use it">
            {pipelines.map((p) => (
              <li key={p.id}>
                <Link to={`/p/${slug}/pipelines/${p.id}`}>{p.name}</Link>
              </li>
            ))}
          </ul>
          <p className="muted">Deleting it anyway makes their stages that use it fail until they are pointed at another one.</p>
        </div>
      ) : (
        <p>
          Delete the {kind.singular} <strong>{row.name}</strong>? This cannot be undone.
        </p>
      )}
      <div className="actions">
        {pipelines ? (
          <button type="button" className="danger" onClick={() => void run(true)} disabled={state.fetching}>
            {state.fetching && <span className="spinner" aria-hidden />} Delete anyway
          </button>
        ) : (
          <button type="button" className="danger" onClick={() => void run(false)} disabled={state.fetching}>
            {state.fetching && <span className="spinner" aria-hidden />} Delete
          </button>
        )}
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        {!pipelines && <MutationError error={state.error} />}
      </div>
    </Modal>
  );
}
