import { Fragment, useCallback, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { formFieldErrors, unclaimedError } from '../../environments/form-model';
import type { PipelineEditorFieldsFragment, PipelineTriggerFieldsFragment, TriggerType } from '../../gql/graphql';
import { FieldError, fieldErrorId } from '../../ui/FieldError';
import { SchemaForm, deepEqual, isObject, type FieldOverrideProps, type JsonObject, type ResourcePickerProps } from '../../ui/schema-form';
import { MutationError } from '../../ui/states';
import { useUnsavedChanges } from '../../ui/useUnsavedChanges';
import { errorsUnder } from '../draft';
import { ResourceSelect } from '../editor/ResourceSelect';
import { TriggerCreateMutation, TriggerUpdateMutation } from './operations';
import { CONFIG_LABELS, TRIGGER_TYPES, UPSTREAM_STATUSES, configSchema, configToSend, initialConfig, triggerTypeInfo } from './trigger-types';

export type TriggerFields = PipelineTriggerFieldsFragment;
export type PipelineParameter = PipelineEditorFieldsFragment['parameters'][number];

/** The form's own fields; everything else the server complains about is shown at the form (config.* in the config form). */
const FORM_KEYS = ['name', 'type', 'enabled'];

const TIME_ZONES: string[] = (() => {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
})();

export interface TriggerFormProps {
  pipelineId: string;
  /** The saved pipeline's parameters (the server checks the templates against them). */
  parameters: PipelineParameter[];
  /** The trigger to edit; null to create one. */
  trigger: TriggerFields | null;
  onCancel: () => void;
  onSaved: (saved: { trigger: TriggerFields; secret: string | null }) => void;
}

/**
 * Create (or edit) a trigger: its type, name, whether it is on, and its type's settings (drawn by
 * SchemaForm from the type's schema, with the project's repositories, registries and pipelines in
 * pickers) and the pipeline's parameters as templates over the event. Problems the server names
 * (`input.config.branches[0]`) are shown at their field.
 */
export function TriggerForm({ pipelineId, parameters, trigger, onCancel, onSaved }: TriggerFormProps) {
  const [type, setType] = useState<TriggerType>(trigger?.type ?? 'GIT_PUSH');
  const [name, setName] = useState(trigger?.name ?? '');
  const [enabled, setEnabled] = useState(trigger?.enabled ?? true);
  const start = useMemo(() => (trigger && isObject(trigger.config) ? trigger.config : initialConfig('GIT_PUSH')), [trigger]);
  const [config, setConfig] = useState<JsonObject>(start);
  const [createState, create] = useMutation(TriggerCreateMutation);
  const [updateState, update] = useMutation(TriggerUpdateMutation);
  const state = trigger ? updateState : createState;
  const dirty = name !== (trigger?.name ?? '') || type !== (trigger?.type ?? 'GIT_PUSH') || !deepEqual(config, start);
  useUnsavedChanges(dirty && !state.fetching);

  const errors = formFieldErrors(state.error);
  const configErrors = errorsUnder(errors, 'config');
  const parameterErrors = errorsUnder(configErrors, 'parameters');
  // The parameters are drawn here, beside the config form, so their problems are not shown twice.
  const schemaErrors = useMemo(() => Object.fromEntries(Object.entries(configErrors).filter(([k]) => k !== 'parameters' && !k.startsWith('parameters.'))), [configErrors]);
  const claimed = Object.keys(errors).filter((k) => FORM_KEYS.includes(k) || k === 'config' || k.startsWith('config.'));
  const unclaimed = unclaimedError(state.error, claimed);
  const info = triggerTypeInfo(type);
  const schema = useMemo(() => {
    const s = configSchema(type, config);
    const { parameters: _drawnBelow, ...properties } = s.properties ?? {};
    void _drawnBelow;
    return { ...s, properties };
  }, [type, config]);

  const renderResourcePicker = useCallback((p: ResourcePickerProps) => <ResourceSelect {...p} excludeId={p.kind === 'PIPELINE' ? pipelineId : undefined} />, [pipelineId]);
  const renderField = useCallback((p: FieldOverrideProps): ReactNode | undefined => {
    if (p.path.length !== 1) return undefined;
    if (p.name === 'statuses') return <StatusChecks {...p} />;
    if (p.name === 'timezone' && TIME_ZONES.length) {
      return (
        <>
          <input id={p.id} type="text" list={`${p.id}-zones`} value={typeof p.value === 'string' ? p.value : ''} aria-invalid={p.invalid || undefined} aria-required={p.required || undefined} aria-describedby={p.describedBy} disabled={p.disabled} onChange={(e) => p.onChange(e.target.value === '' ? undefined : e.target.value)} />
          <datalist id={`${p.id}-zones`}>
            {TIME_ZONES.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </>
      );
    }
    return undefined;
  }, []);

  const changeType = (t: TriggerType) => {
    setType(t);
    setConfig(initialConfig(t));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const sent = configToSend(type, config);
    if (trigger) {
      const r = await update({ id: trigger.id, input: { name: name.trim(), config: sent } });
      if (r.data) onSaved({ trigger: r.data.updateTrigger, secret: null });
    } else {
      const r = await create({ input: { pipelineId, type, name: name.trim(), config: sent, enabled } });
      if (r.data) onSaved({ trigger: r.data.createTrigger.trigger, secret: r.data.createTrigger.secret });
    }
  };

  const described = (id: string, key: string, hint?: boolean) => [hint && `${id}-hint`, errors[key] && fieldErrorId(id)].filter(Boolean).join(' ') || undefined;
  const title = trigger ? `Edit trigger ${trigger.name}` : 'New trigger';
  return (
    <form className="panel trigger-form" onSubmit={submit} noValidate aria-label={title}>
      <h2 className="panel-title">{title}</h2>
      <div className="form-grid">
        <label htmlFor="trigger-type">Type</label>
        <div className="field">
          <select id="trigger-type" value={type} disabled={!!trigger} aria-invalid={errors.type ? true : undefined} aria-describedby={described('trigger-type', 'type', true)} onChange={(e) => changeType(e.target.value as TriggerType)}>
            {TRIGGER_TYPES.map((t) => (
              <option key={t.type} value={t.type}>
                {t.label} ({t.type})
              </option>
            ))}
          </select>
          <span className="hint" id="trigger-type-hint">
            {info.description}
            {trigger && ' The type of a trigger cannot change: create another one.'}
          </span>
          <FieldError id="trigger-type" message={errors.type} />
        </div>
        <label htmlFor="trigger-name">Name</label>
        <div className="field">
          <input id="trigger-name" type="text" value={name} maxLength={100} autoComplete="off" autoFocus aria-required aria-invalid={errors.name ? true : undefined} aria-describedby={described('trigger-name', 'name', true)} onChange={(e) => setName(e.target.value)} />
          <span className="hint" id="trigger-name-hint">
            Unique in the pipeline, e.g. “push-to-main”.
          </span>
          <FieldError id="trigger-name" message={errors.name} />
        </div>
        {!trigger && (
          <>
            <span className="form-grid-label" aria-hidden>
              On
            </span>
            <div className="field">
              <label className="checkbox-line">
                <input id="trigger-enabled" type="checkbox" checked={enabled} aria-describedby={described('trigger-enabled', 'enabled')} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
              </label>
              <FieldError id="trigger-enabled" message={errors.enabled} />
            </div>
          </>
        )}
      </div>
      <fieldset className="trigger-config">
        <legend>{info.label} settings</legend>
        <SchemaForm key={type} schema={schema} value={config} onChange={setConfig} idPrefix="trigger-config" errors={schemaErrors} labels={CONFIG_LABELS} renderResourcePicker={renderResourcePicker} renderField={renderField} />
        <ParameterTemplates
          parameters={parameters}
          templates={info.templates}
          value={config.parameters}
          errors={parameterErrors}
          onChange={(v) =>
            setConfig((c) => {
              const next = { ...c };
              if (v === undefined) delete next.parameters;
              else next.parameters = v;
              return next;
            })
          }
        />
      </fieldset>
      <div className="actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {state.fetching && <span className="spinner" aria-hidden />} {trigger ? 'Save trigger' : 'Create trigger'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        {unclaimed && <MutationError error={new Error(unclaimed)} />}
      </div>
    </form>
  );
}

/** PIPELINE `statuses`: one checkbox per way an upstream run may end. */
function StatusChecks({ id, value, onChange, invalid, describedBy, disabled }: FieldOverrideProps) {
  const picked = Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  return (
    <div id={id} role="group" aria-label="Statuses" aria-invalid={invalid || undefined} aria-describedby={describedBy} className="trigger-statuses">
      {UPSTREAM_STATUSES.map((s) => (
        <label key={s} className="sf-check">
          <input type="checkbox" checked={picked.includes(s)} disabled={disabled} onChange={(e) => onChange(e.target.checked ? UPSTREAM_STATUSES.filter((x) => x === s || picked.includes(x)) : picked.filter((x) => x !== s))} />
          <span className="mono">{s}</span>
        </label>
      ))}
    </div>
  );
}

/**
 * `config.parameters`: a template per parameter of the pipeline (`${git.branch}`); templates of
 * names the pipeline no longer has are shown too, so they can be cleared.
 */
function ParameterTemplates({ parameters, templates, value, errors, onChange }: { parameters: PipelineParameter[]; templates: string[]; value: unknown; errors: Record<string, string>; onChange: (v: JsonObject | undefined) => void }) {
  const current = isObject(value) ? value : {};
  const names = parameters.map((p) => p.name);
  const all = [...names, ...Object.keys(current).filter((k) => !names.includes(k))];
  const set = (name: string, text: string) => {
    const next: JsonObject = { ...current };
    if (text === '') delete next[name];
    else next[name] = text;
    onChange(Object.keys(next).length ? next : undefined);
  };
  return (
    <fieldset className="sf-group trigger-parameters" aria-describedby="trigger-parameters-hint">
      <legend>Parameters</legend>
      <p className="hint" id="trigger-parameters-hint">
        {all.length ? (
          <>
            A template per run parameter, filled from the event, e.g.{' '}
            {templates.map((t, i) => (
              <Fragment key={t}>
                {i > 0 && ', '}
                <code>{t}</code>
              </Fragment>
            ))}
            . Empty: the parameter&apos;s default. These are the saved pipeline&apos;s parameters.
          </>
        ) : (
          'This pipeline has no parameters. Add them on the Parameters tab (and save) to fill them from the event.'
        )}
      </p>
      <FieldError id="trigger-parameters" message={errors['']} />
      {all.map((n) => {
        const p = parameters.find((x) => x.name === n);
        const id = `trigger-parameter-${n.replace(/[^A-Za-z0-9_-]/g, '_')}`;
        const error = errors[n];
        const hint = p ? [p.label && p.label !== n ? p.label : null, p.default ? `default: ${p.default}` : null, p.required && !p.default ? 'required: a run needs a value' : null].filter(Boolean).join('; ') : 'Not a parameter of this pipeline (any more): clear it.';
        return (
          <div className="field sf-field" key={n}>
            <label htmlFor={id}>
              <span className="visually-hidden">Parameter </span>
              <span className="mono">{n}</span>
            </label>
            <input id={id} type="text" className="mono" value={typeof current[n] === 'string' ? (current[n] as string) : ''} placeholder={templates[0]} aria-invalid={error ? true : undefined} aria-describedby={[hint && `${id}-hint`, error && fieldErrorId(id)].filter(Boolean).join(' ') || undefined} onChange={(e) => set(n, e.target.value)} />
            {hint && (
              <span className="hint" id={`${id}-hint`}>
                {hint}
              </span>
            )}
            <FieldError id={id} message={error} />
          </div>
        );
      })}
    </fieldset>
  );
}
