import { useMemo, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { FieldError, fieldErrorId } from '../ui/FieldError';
import { Modal } from '../ui/Modal';
import { MutationError } from '../ui/states';
import { useUnsavedChanges } from '../ui/useUnsavedChanges';
import {
  buildCreateInput,
  buildUpdateInput,
  formFieldErrors,
  initialValues,
  isDirty,
  isSecret,
  unclaimedError,
  type FieldSpec,
  type FormValue,
  type SecretAction,
  type SecretActions,
} from './form-model';
import type { KindConfig, ResourceRow } from './kinds';

/**
 * Create (row null) or edit one resource in a dialog. Secrets are write-only: on edit the form says
 * whether one is stored and sends it only when replaced or cleared.
 */
export function ResourceForm<Row extends ResourceRow, C, U>({
  kind,
  row,
  projectId,
  onClose,
  onSaved,
}: {
  kind: KindConfig<Row, C, U>;
  row: Row | null;
  projectId: string;
  /** Must be stable (the dialog re-focuses when it changes). */
  onClose: () => void;
  onSaved: () => void;
}) {
  const start = useMemo(() => initialValues(kind.fields, row), [kind, row]);
  const [values, setValues] = useState(start);
  const [secrets, setSecrets] = useState<SecretActions>({});
  const [createState, create] = useMutation(kind.create);
  const [updateState, update] = useMutation(kind.update);
  const state = row ? updateState : createState;
  const errors = formFieldErrors(state.error);
  const keys = kind.fields.map((f) => f.key);
  const unclaimed = unclaimedError(state.error, keys);
  const dirty = isDirty(kind.fields, start, values, secrets);
  useUnsavedChanges(dirty && !state.fetching);

  const set = (key: string, v: FormValue) => setValues((s) => ({ ...s, [key]: v }));
  const setSecret = (key: string, a: SecretAction) => {
    setSecrets((s) => ({ ...s, [key]: a }));
    if (a !== 'replace') set(key, '');
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = row
      ? await update({ id: row.id, input: buildUpdateInput(kind.fields, row, values, secrets) as unknown as U })
      : await create({ input: { ...buildCreateInput(kind.fields, values), projectId } as unknown as C });
    if (!result.error) onSaved();
  };

  const title = row ? `Edit ${row.name}` : `New ${kind.singular}`;
  return (
    <Modal title={title} onClose={onClose}>
      <form onSubmit={submit} noValidate className="env-form">
        <div className="form-grid">
          {kind.fields.map((f) => (
            <FormField
              key={f.key}
              id={`env-${kind.slug}-${f.key}`}
              field={f}
              row={row}
              value={values[f.key]}
              onChange={(v) => set(f.key, v)}
              error={errors[f.key]}
              secret={secrets[f.key] ?? 'keep'}
              onSecret={(a) => setSecret(f.key, a)}
            />
          ))}
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={state.fetching}>
            {state.fetching && <span className="spinner" aria-hidden />} Save
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          {unclaimed && <MutationError error={new Error(unclaimed)} />}
        </div>
      </form>
    </Modal>
  );
}

function FormField<Row>({
  id,
  field: f,
  row,
  value,
  onChange,
  error,
  secret,
  onSecret,
}: {
  id: string;
  field: FieldSpec<Row>;
  row: Row | null;
  value: FormValue;
  onChange: (v: FormValue) => void;
  error?: string;
  secret: SecretAction;
  onSecret: (a: SecretAction) => void;
}) {
  const hintId = `${id}-hint`;
  const describedBy = [error ? fieldErrorId(id) : null, f.hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    'aria-required': f.required || undefined,
  } as const;
  const text = typeof value === 'string' ? value : '';
  const secretInput =
    f.type === 'secret-textarea' ? (
      <textarea {...common} rows={5} spellCheck={false} autoComplete="off" value={text} onChange={(e) => onChange(e.target.value)} autoFocus={!!row} />
    ) : (
      <input {...common} type="password" autoComplete="new-password" value={text} onChange={(e) => onChange(e.target.value)} autoFocus={!!row} />
    );

  let control;
  if (isSecret(f) && row) {
    const stored = f.isSet?.(row) ?? false;
    const stateText = f.stateText?.(row) ?? (stored ? 'set' : 'not set');
    control = (
      <>
        <div className="secret-state">
          <span className={`status${secret === 'clear' ? ' status-FAILED' : stored ? ' status-SUCCEEDED' : ''}`} id={`${id}-state`}>
            {secret === 'clear' ? 'will be cleared' : stateText}
          </span>
          {secret === 'keep' ? (
            <>
              <button type="button" onClick={() => onSecret('replace')} aria-describedby={`${id}-state`}>
                Replace
              </button>
              {stored && !f.noClear && (
                <button type="button" onClick={() => onSecret('clear')}>
                  Clear
                </button>
              )}
            </>
          ) : (
            <button type="button" onClick={() => onSecret('keep')}>
              Keep current
            </button>
          )}
        </div>
        {secret === 'replace' && secretInput}
      </>
    );
  } else if (isSecret(f)) control = secretInput;
  else if (f.type === 'select')
    control = (
      <select {...common} value={text} onChange={(e) => onChange(e.target.value)}>
        {f.options?.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    );
  else if (f.type === 'checkbox')
    control = (
      <span className="checkbox-line">
        <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
      </span>
    );
  else if (f.type === 'textarea')
    control = <textarea {...common} rows={4} spellCheck={false} placeholder={f.placeholder} value={text} onChange={(e) => onChange(e.target.value)} />;
  else control = <input {...common} type="text" placeholder={f.placeholder} value={text} onChange={(e) => onChange(e.target.value)} />;

  return (
    <>
      <div className="label-cell">
        <label htmlFor={id}>{f.label}</label>
        {f.required && (
          <span className="required" title="required" aria-hidden>
            *
          </span>
        )}
      </div>
      <div className="field">
        {control}
        {f.hint && (
          <span className="hint" id={hintId}>
            {f.hint}
          </span>
        )}
        <FieldError id={id} message={error} />
      </div>
    </>
  );
}
