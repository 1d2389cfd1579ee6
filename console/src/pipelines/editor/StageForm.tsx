import { useCallback, useMemo, useState, type ReactNode } from 'react';
import { FieldError, fieldErrorId } from '../../ui/FieldError';
import { SchemaForm, humanise, type FieldOverrideProps, type JsonObject, type ResourcePickerProps } from '../../ui/schema-form';
import { FAILURE_POLICIES, errorsUnder, upstreamOf, type DraftStage, type StageTypeInfo } from '../draft';
import { ResourceSelect } from './ResourceSelect';

/** The labels of the common stage settings; a config field that would be named the same is renamed. */
export const STAGE_LABELS = ['Name', 'Type', 'Start condition', 'End condition', 'Failure policy', 'Timeout (seconds)', 'Retry max attempts', 'Retry backoff (seconds)', 'Depends on'];
const RENAMED: Record<string, string> = { name: 'Resource name', timeoutSeconds: 'Request timeout (seconds)' };

/** Config labels that would clash with the stage settings' labels. */
export function configLabels(info: StageTypeInfo | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, prop] of Object.entries(info?.configSchema.properties ?? {})) {
    const label = humanise(key, prop);
    if (STAGE_LABELS.includes(label)) out[key] = RENAMED[key] ?? `Config ${label.toLowerCase()}`;
  }
  return out;
}

export interface StageConfigFormProps {
  stage: DraftStage;
  stages: DraftStage[];
  info: StageTypeInfo;
  pipelineId?: string;
  errors?: Record<string, string>;
  onChange: (config: JsonObject) => void;
  disabled?: boolean;
}

/** A stage's config form: generated from its type's schema, with resource pickers and the judgement picker of a precondition. */
export function StageConfigForm({ stage, stages, info, pipelineId, errors, onChange, disabled }: StageConfigFormProps) {
  const labels = useMemo(() => configLabels(info), [info]);
  const renderResourcePicker = useCallback((p: ResourcePickerProps) => <ResourceSelect {...p} excludeId={p.kind === 'PIPELINE' ? pipelineId : undefined} />, [pipelineId]);
  const renderField = useCallback(
    (p: FieldOverrideProps): ReactNode | undefined => {
      if (!(stage.type === 'PRECONDITION' && p.name === 'judgementRefId' && p.path.length === 1)) return undefined;
      const judgements = stages.filter((s) => s.type === 'JUDGEMENT' && s.refId !== stage.refId);
      const upstream = upstreamOf(stages, stage.refId);
      const value = typeof p.value === 'string' ? p.value : '';
      return (
        <select
          id={p.id}
          value={value}
          aria-invalid={p.invalid || undefined}
          aria-required={p.required || undefined}
          aria-describedby={p.describedBy}
          disabled={p.disabled}
          onChange={(e) => p.onChange(e.target.value === '' ? undefined : e.target.value)}
        >
          <option value="">Choose a Judgement stage…</option>
          {value && !judgements.some((j) => j.refId === value) && <option value={value}>{value} (no such Judgement stage)</option>}
          {judgements.map((j) => (
            <option key={j.refId} value={j.refId}>
              {j.name} ({j.refId}){upstream.has(j.refId) ? '' : ': not upstream yet'}
            </option>
          ))}
        </select>
      );
    },
    [stage.type, stage.refId, stages],
  );
  return (
    <SchemaForm
      schema={info.configSchema}
      value={stage.config}
      onChange={onChange}
      idPrefix={`stage-${stage.refId}-config`}
      errors={errors}
      labels={labels}
      renderResourcePicker={renderResourcePicker}
      renderField={renderField}
      disabled={disabled}
    />
  );
}

function IntInput({ id, value, onChange, min, max, invalid, describedBy, placeholder }: { id: string; value: number | null; onChange: (v: number | null) => void; min?: number; max?: number; invalid?: boolean; describedBy?: string; placeholder?: string }) {
  const [state, setState] = useState({ text: value == null ? '' : String(value), committed: value });
  if (state.committed !== value) setState({ text: value == null ? '' : String(value), committed: value });
  return (
    <input
      id={id}
      type="number"
      inputMode="numeric"
      step={1}
      min={min}
      max={max}
      placeholder={placeholder}
      value={state.text}
      aria-invalid={invalid || undefined}
      aria-describedby={describedBy}
      onChange={(e) => {
        const text = e.target.value;
        const n = text.trim() === '' ? null : Number(text);
        if (n !== null && !Number.isFinite(n)) return setState({ text, committed: state.committed });
        setState({ text, committed: n });
        onChange(n);
      }}
    />
  );
}

function ConditionField({ id, label, value, onChange, error, example, hint }: { id: string; label: string; value: string; onChange: (v: string) => void; error?: string; example: string; hint: string }) {
  let local = '';
  if (value.trim()) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) local = `must be a JSON object such as ${example}`;
    } catch (e) {
      local = `is not valid JSON: ${(e as Error).message}`;
    }
  }
  const message = local || error;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        rows={value.trim() ? 4 : 2}
        spellCheck={false}
        placeholder={example}
        value={value}
        aria-invalid={Boolean(message) || undefined}
        aria-describedby={`${id}-hint${message ? ` ${fieldErrorId(id)}` : ''}`}
        onChange={(e) => onChange(e.target.value)}
      />
      <p id={`${id}-hint`} className="hint">
        {hint} Empty for none.
      </p>
      <FieldError id={id} message={message} />
    </div>
  );
}

export interface StageFormProps {
  stage: DraftStage;
  stages: DraftStage[];
  info: StageTypeInfo | undefined;
  pipelineId: string;
  /** Problems by path relative to the stage (`name`, `config.url`, `dependsOn.0`, ...). */
  errors?: Record<string, string>;
  onChange: (stage: DraftStage) => void;
  onRemove: () => void;
  onClose: () => void;
  readOnly: boolean;
}

/** The side panel of one stage: name, type, its config form, and the settings every stage has. */
export function StageForm({ stage, stages, info, pipelineId, errors = {}, onChange, onRemove, onClose, readOnly }: StageFormProps) {
  const id = (f: string) => `stage-${stage.refId}-${f}`;
  const set = (patch: Partial<DraftStage>) => onChange({ ...stage, ...patch });
  const configErrors = useMemo(() => errorsUnder(errors, 'config'), [errors]);
  const onConfig = useCallback((config: JsonObject) => onChange({ ...stage, config }), [onChange, stage]);
  const downstream = useMemo(() => new Set(stages.filter((s) => upstreamOf(stages, s.refId).has(stage.refId)).map((s) => s.refId)), [stages, stage.refId]);
  const depError = Object.entries(errors)
    .filter(([k]) => k === 'dependsOn' || k.startsWith('dependsOn.'))
    .map(([k, v]) => {
      const i = /^dependsOn\.(\d+)$/.exec(k)?.[1];
      return i !== undefined ? `"${stage.dependsOn[Number(i)] ?? `#${Number(i) + 1}`}" ${v}` : v;
    })
    .join('; ');
  const other = Object.entries(errors).filter(([k]) => k === 'type' || k === 'refId');
  const conditionError = (key: 'startCondition' | 'endCondition') =>
    Object.entries(errors)
      .filter(([k]) => k === key || k.startsWith(`${key}.`))
      .map(([k, v]) => (k === key ? v : `${k.slice(key.length + 1)} ${v}`))
      .join('; ') || undefined;
  const retryError = (k: 'maxAttempts' | 'backoffSeconds') => [errors[`retry.${k}`], k === 'maxAttempts' ? errors.retry : undefined].filter(Boolean).join('; ') || undefined;
  const described = (f: string, hint?: boolean) => [hint && `${id(f)}-hint`, errors[f] && fieldErrorId(id(f))].filter(Boolean).join(' ') || undefined;

  return (
    <section className="stage-form" aria-label={`Stage ${stage.name || stage.refId}`}>
      <div className="stage-form-head">
        <h2>{stage.name || stage.refId}</h2>
        <span className="muted mono">{stage.refId}</span>
        <span className="spacer" />
        <button type="button" className="link" onClick={onClose} aria-label="Close stage form">
          Close
        </button>
      </div>
      {other.map(([k, v]) => (
        <p key={k} className="field-error" role="alert">
          {k}: {v}
        </p>
      ))}
      <fieldset className="stage-form-body" disabled={readOnly}>
        <div className="field">
          <label htmlFor={id('name')}>Name</label>
          <input id={id('name')} type="text" value={stage.name} maxLength={255} aria-invalid={Boolean(errors.name) || undefined} aria-describedby={described('name')} onChange={(e) => set({ name: e.target.value })} />
          <FieldError id={id('name')} message={errors.name} />
        </div>
        <div className="field">
          <label htmlFor={id('type')}>Type</label>
          <input id={id('type')} type="text" readOnly value={info ? `${info.label} (${stage.type})` : stage.type} aria-describedby={info ? `${id('type')}-hint` : undefined} />
          {info && (
            <p id={`${id('type')}-hint`} className="hint">
              {info.description}
            </p>
          )}
        </div>

        <fieldset className="sf-group stage-config">
          <legend>Configuration</legend>
          {info ? (
            <StageConfigForm stage={stage} stages={stages} info={info} pipelineId={pipelineId} errors={configErrors} onChange={onConfig} disabled={readOnly} />
          ) : (
            <p className="field-error">Unknown stage type {stage.type}: its configuration cannot be edited here.</p>
          )}
        </fieldset>

        <div className="field">
          <label htmlFor={id('dependsOn')}>Depends on</label>
          <select
            id={id('dependsOn')}
            multiple
            size={Math.min(6, Math.max(2, stages.length - 1))}
            value={stage.dependsOn}
            aria-invalid={Boolean(depError) || undefined}
            aria-describedby={`${id('dependsOn')}-hint${depError ? ` ${fieldErrorId(id('dependsOn'))}` : ''}`}
            onChange={(e) => set({ dependsOn: Array.from(e.target.selectedOptions, (o) => o.value) })}
          >
            {stages
              .filter((s) => s.refId !== stage.refId)
              .map((s) => (
                <option key={s.refId} value={s.refId} disabled={downstream.has(s.refId)}>
                  {s.name} ({s.refId}){downstream.has(s.refId) ? ': downstream of this stage' : ''}
                </option>
              ))}
            {stage.dependsOn
              .filter((d) => !stages.some((s) => s.refId === d))
              .map((d) => (
                <option key={d} value={d}>
                  {d} (no such stage)
                </option>
              ))}
          </select>
          <p id={`${id('dependsOn')}-hint`} className="hint">
            The stages that must finish first (Ctrl or Shift to pick several). In the graph, drag from a stage's right handle to another stage.
          </p>
          <FieldError id={id('dependsOn')} message={depError} />
        </div>

        <ConditionField
          id={id('startCondition')}
          label="Start condition"
          value={stage.startCondition}
          onChange={(startCondition) => set({ startCondition })}
          error={conditionError('startCondition')}
          example={'{"artifacts": ["image"], "onMissing": "SKIP"}'}
          hint='Artifacts that must exist before the stage starts: {"artifacts": [names], "onMissing": "SKIP" or "FAIL" (default)}.'
        />
        <ConditionField
          id={id('endCondition')}
          label="End condition"
          value={stage.endCondition}
          onChange={(endCondition) => set({ endCondition })}
          error={conditionError('endCondition')}
          example={'{"artifacts": [{"name": "image", "from": "image"}]}'}
          hint='Outputs that become named artifacts for later stages: {"artifacts": [{"name": artifact name, "from": output path}]}.'
        />

        <div className="field">
          <label htmlFor={id('failurePolicy')}>Failure policy</label>
          <select id={id('failurePolicy')} value={stage.failurePolicy} aria-invalid={Boolean(errors.failurePolicy) || undefined} aria-describedby={described('failurePolicy')} onChange={(e) => set({ failurePolicy: e.target.value as DraftStage['failurePolicy'] })}>
            {FAILURE_POLICIES.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
          <FieldError id={id('failurePolicy')} message={errors.failurePolicy} />
        </div>
        <div className="stage-form-numbers">
          <div className="field">
            <label htmlFor={id('timeoutSeconds')}>Timeout (seconds)</label>
            <IntInput id={id('timeoutSeconds')} value={stage.timeoutSeconds} min={1} max={604800} placeholder="none" invalid={Boolean(errors.timeoutSeconds)} describedBy={described('timeoutSeconds')} onChange={(timeoutSeconds) => set({ timeoutSeconds })} />
            <FieldError id={id('timeoutSeconds')} message={errors.timeoutSeconds} />
          </div>
          <div className="field">
            <label htmlFor={id('retryMaxAttempts')}>Retry max attempts</label>
            <IntInput
              id={id('retryMaxAttempts')}
              value={stage.retryMaxAttempts}
              min={1}
              max={100}
              placeholder="no retries"
              invalid={Boolean(retryError('maxAttempts'))}
              describedBy={retryError('maxAttempts') ? fieldErrorId(id('retryMaxAttempts')) : undefined}
              onChange={(retryMaxAttempts) => set({ retryMaxAttempts })}
            />
            <FieldError id={id('retryMaxAttempts')} message={retryError('maxAttempts')} />
          </div>
          <div className="field">
            <label htmlFor={id('retryBackoffSeconds')}>Retry backoff (seconds)</label>
            <IntInput
              id={id('retryBackoffSeconds')}
              value={stage.retryBackoffSeconds}
              min={0}
              max={86400}
              placeholder="10"
              invalid={Boolean(retryError('backoffSeconds'))}
              describedBy={retryError('backoffSeconds') ? fieldErrorId(id('retryBackoffSeconds')) : undefined}
              onChange={(retryBackoffSeconds) => set({ retryBackoffSeconds })}
            />
            <FieldError id={id('retryBackoffSeconds')} message={retryError('backoffSeconds')} />
          </div>
        </div>
        <div className="actions">
          <button type="button" className="danger" onClick={onRemove}>
            Remove stage
          </button>
        </div>
      </fieldset>
    </section>
  );
}
