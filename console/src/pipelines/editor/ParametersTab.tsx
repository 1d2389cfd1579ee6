import { FieldError, fieldErrorId } from '../../ui/FieldError';
import type { DraftParameter } from '../draft';

const EMPTY: DraftParameter = { name: '', label: '', description: '', default: '', required: false, options: '' };

/** The pipeline's run parameters: name, label, description, default, choices, required. */
export function ParametersTab({ parameters, onChange, errors, readOnly }: { parameters: DraftParameter[]; onChange: (p: DraftParameter[]) => void; errors: Record<number, Record<string, string>>; readOnly: boolean }) {
  const set = (i: number, patch: Partial<DraftParameter>) => onChange(parameters.map((p, k) => (k === i ? { ...p, ...patch } : p)));
  const text = (i: number, field: 'name' | 'label' | 'description' | 'default' | 'options', label: string, placeholder?: string) => {
    const id = `parameter-${i}-${field}`;
    const error = errors[i]?.[field];
    return (
      <td>
        <input
          id={id}
          type="text"
          aria-label={`Parameter ${i + 1} ${label}`}
          placeholder={placeholder}
          value={parameters[i][field]}
          aria-invalid={Boolean(error) || undefined}
          aria-describedby={error ? fieldErrorId(id) : undefined}
          onChange={(e) => set(i, { [field]: e.target.value })}
        />
        <FieldError id={id} message={error} />
      </td>
    );
  };
  return (
    <section className="panel" aria-label="Parameters">
      <p className="muted">A run asks for these; stages read them as {'${parameters.NAME}'}.</p>
      <fieldset className="plain" disabled={readOnly}>
        {parameters.length ? (
          <table className="parameters-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Label</th>
                <th>Description</th>
                <th>Default</th>
                <th>Options</th>
                <th>Required</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {parameters.map((p, i) => (
                <tr key={i}>
                  {text(i, 'name', 'name', 'e.g. version')}
                  {text(i, 'label', 'label')}
                  {text(i, 'description', 'description')}
                  {text(i, 'default', 'default')}
                  {text(i, 'options', 'options', 'a, b, c (empty: free text)')}
                  <td>
                    <input type="checkbox" aria-label={`Parameter ${i + 1} required`} checked={p.required} onChange={(e) => set(i, { required: e.target.checked })} />
                    <FieldError id={`parameter-${i}-required`} message={errors[i]?.required} />
                  </td>
                  <td>
                    <button type="button" className="link" aria-label={`Remove parameter ${i + 1}`} onClick={() => onChange(parameters.filter((_, k) => k !== i))}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted">No parameters.</p>
        )}
        <div className="actions">
          <button type="button" onClick={() => onChange([...parameters, { ...EMPTY }])}>
            Add parameter
          </button>
        </div>
      </fieldset>
    </section>
  );
}
