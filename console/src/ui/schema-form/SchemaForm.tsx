import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import { FieldError, fieldErrorId } from '../FieldError';
import {
  deepEqual,
  discriminatorOf,
  fieldKind,
  fieldPaths,
  humanise,
  initialValue,
  isAnything,
  isMultiline,
  isObject,
  lowerFirst,
  pathKey,
  resourceKindOf,
  typeOf,
  variantIndex,
  variantLabel,
  variantsOf,
  type JsonObject,
  type JsonSchema,
  type Path,
  type ResourceKind,
} from './schema';
import './schema-form.css';

/** What a resource picker gets: render a <select id={id}> (or similar) of the project's resources of `kind`. */
export interface ResourcePickerProps {
  id: string;
  kind: ResourceKind;
  label: string;
  value: string | undefined;
  onChange: (value: string | undefined) => void;
  required: boolean;
  invalid: boolean;
  describedBy?: string;
  disabled?: boolean;
}

/** What a field override gets; return undefined to render the field as usual. */
export interface FieldOverrideProps<T = unknown> {
  path: Path;
  name: string | number | undefined;
  schema: JsonSchema;
  id: string;
  label: string;
  value: T;
  onChange: (value: T | undefined) => void;
  required: boolean;
  invalid: boolean;
  describedBy?: string;
  disabled?: boolean;
}

export interface SchemaFormProps {
  schema: JsonSchema;
  value: unknown;
  onChange: (value: JsonObject) => void;
  /** Prefix of every input id (unique on the page). */
  idPrefix: string;
  /** Problems by path relative to the value, e.g. `replicas`, `template.path`, `overrides.0.key`. */
  errors?: Record<string, string>;
  /** Labels by path, replacing the humanised property names. */
  labels?: Record<string, string>;
  renderResourcePicker?: (props: ResourcePickerProps) => ReactNode;
  /** A custom control for some field (by path or name); undefined renders the usual one. */
  renderField?: (props: FieldOverrideProps) => ReactNode | undefined;
  disabled?: boolean;
}

interface Ctx {
  idPrefix: string;
  errors: Record<string, string>;
  labels: Record<string, string>;
  renderResourcePicker?: SchemaFormProps['renderResourcePicker'];
  renderField?: SchemaFormProps['renderField'];
  disabled?: boolean;
}

const FormCtx = createContext<Ctx>({ idPrefix: 'sf', errors: {}, labels: {} });

const idFor = (prefix: string, path: Path) => `${prefix}-${path.map((p) => String(p).replace(/[^A-Za-z0-9_-]/g, '_')).join('-') || 'root'}`;
const hintId = (id: string) => `${id}-hint`;
const describedBy = (id: string, hint: boolean, error: boolean) => [hint && hintId(id), error && fieldErrorId(id)].filter(Boolean).join(' ') || undefined;

/**
 * A form generated from a JSON Schema (draft-07, as zod-to-json-schema writes it): objects,
 * strings (enums as selects, long text as textareas), numbers, booleans, arrays of primitives and
 * of objects, records (key/value rows), anyOf/oneOf unions (a variant selector), resource ids
 * (a picker); required fields marked, optional empty ones left out of the value, defaults applied
 * by `initialValue`. Every control is labelled; problems show under the field they name.
 */
export function SchemaForm({ schema, value, onChange, idPrefix, errors = {}, labels = {}, renderResourcePicker, renderField, disabled }: SchemaFormProps) {
  const ctx = useMemo<Ctx>(() => ({ idPrefix, errors, labels, renderResourcePicker, renderField, disabled }), [idPrefix, errors, labels, renderResourcePicker, renderField, disabled]);
  const shown = useMemo(() => new Set(fieldPaths(schema, value)), [schema, value]);
  const orphans = Object.entries(errors).filter(([path]) => !shown.has(path) || path === '');
  const root = isObject(value) ? value : {};
  return (
    <FormCtx.Provider value={ctx}>
      <div className="schema-form">
        {orphans.length > 0 && (
          <ul className="sf-orphans" role="alert">
            {orphans.map(([path, message]) => (
              <li key={path} className="field-error">
                {path ? `${path}: ` : ''}
                {message}
              </li>
            ))}
          </ul>
        )}
        {fieldKind(schema) === 'object' ? (
          <ObjectBody schema={schema} value={root} onChange={(v) => onChange(v ?? {})} path={[]} />
        ) : (
          <Field schema={schema} name={undefined} path={[]} value={value} required onChange={(v) => onChange(isObject(v) ? v : {})} />
        )}
      </div>
    </FormCtx.Provider>
  );
}

interface FieldProps<T = unknown> {
  schema: JsonSchema;
  name: string | number | undefined;
  path: Path;
  value: T;
  required: boolean;
  onChange: (value: unknown) => void;
  /** The label, when the parent decides it (array rows, union variants). */
  label?: string;
}

function useField(path: Path, name: string | number | undefined, schema: JsonSchema, labelOverride?: string) {
  const ctx = useContext(FormCtx);
  const key = pathKey(path);
  const id = idFor(ctx.idPrefix, path);
  const label = labelOverride ?? ctx.labels[key] ?? (name === undefined ? 'Value' : humanise(name, schema));
  const error = ctx.errors[key];
  return { ctx, key, id, label, error, describedBy: describedBy(id, Boolean(schema.description), Boolean(error)) };
}

function Label({ id, label, required }: { id: string; label: string; required: boolean }) {
  return (
    <div className="sf-label-row">
      <label htmlFor={id}>{label}</label>
      {required && (
        <span className="sf-required" aria-hidden="true" title="required">
          *
        </span>
      )}
    </div>
  );
}

function Hint({ id, schema }: { id: string; schema: JsonSchema }) {
  return schema.description ? (
    <p id={hintId(id)} className="hint">
      {schema.description}
      {schema.default !== undefined && typeof schema.default !== 'object' && ` Default: ${String(schema.default)}.`}
    </p>
  ) : null;
}

/** One field of any kind. */
export function Field(props: FieldProps) {
  const { schema, name, path, value, required, onChange, label: labelProp } = props;
  const f = useField(path, name, schema, labelProp);
  const override = f.ctx.renderField?.({
    path,
    name,
    schema,
    id: f.id,
    label: f.label,
    value,
    onChange,
    required,
    invalid: Boolean(f.error),
    describedBy: f.describedBy,
    disabled: f.ctx.disabled,
  });
  if (override !== undefined) {
    return (
      <div className="field sf-field">
        <Label id={f.id} label={f.label} required={required} />
        {override}
        <Hint id={f.id} schema={schema} />
        <FieldError id={f.id} message={f.error} />
      </div>
    );
  }
  switch (fieldKind(schema, name)) {
    case 'const':
      return null;
    case 'union':
      return <UnionField {...props} />;
    case 'object':
      return <ObjectField {...props} value={isObject(value) ? value : undefined} />;
    case 'record':
      return <RecordField {...props} value={isObject(value) ? value : undefined} />;
    case 'array':
      return <ArrayField {...props} value={Array.isArray(value) ? value : undefined} />;
    case 'json':
      return <JsonField {...props} />;
    default:
      return (
        <div className={`field sf-field${fieldKind(schema, name) === 'boolean' ? ' sf-checkbox' : ''}`}>
          {fieldKind(schema, name) !== 'boolean' && <Label id={f.id} label={f.label} required={required} />}
          <Primitive {...props} id={f.id} label={f.label} invalid={Boolean(f.error)} describedBy={f.describedBy} />
          <Hint id={f.id} schema={schema} />
          <FieldError id={f.id} message={f.error} />
        </div>
      );
  }
}

interface PrimitiveProps extends FieldProps {
  id: string;
  label: string;
  invalid: boolean;
  describedBy?: string;
  /** For rows without a visible label. */
  ariaLabel?: string;
}

/** A control for a string, number, boolean, enum or resource id (no label: the caller gives one). */
function Primitive({ schema, name, value, required, onChange, id, label, invalid, describedBy: described, ariaLabel }: PrimitiveProps) {
  const ctx = useContext(FormCtx);
  const common = {
    id,
    'aria-label': ariaLabel,
    'aria-invalid': invalid || undefined,
    'aria-required': required || undefined,
    'aria-describedby': described,
    disabled: ctx.disabled,
  };
  const kind = fieldKind(schema, name);
  if (kind === 'boolean') {
    return (
      <label className="sf-check">
        <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.target.checked)} />
        <span>{ariaLabel ? null : label}</span>
        {required && !ariaLabel && (
          <span className="sf-required" aria-hidden="true">
            *
          </span>
        )}
      </label>
    );
  }
  if (kind === 'enum') {
    const options = schema.enum ?? [];
    const current = options.findIndex((o) => o === value);
    return (
      <select {...common} value={current < 0 ? '' : String(current)} onChange={(e) => onChange(e.target.value === '' ? undefined : options[Number(e.target.value)])}>
        {(current < 0 || (!required && schema.default === undefined)) && <option value="">{required ? 'Choose…' : '(not set)'}</option>}
        {options.map((o, i) => (
          <option key={String(o)} value={String(i)}>
            {String(o)}
          </option>
        ))}
      </select>
    );
  }
  if (kind === 'resource') {
    const kindOf = resourceKindOf(name, schema)!;
    const v = typeof value === 'string' ? value : undefined;
    if (ctx.renderResourcePicker) {
      return ctx.renderResourcePicker({ id, kind: kindOf, label: ariaLabel ?? label, value: v, onChange, required, invalid, describedBy: described, disabled: ctx.disabled });
    }
    return <input {...common} type="text" className="mono" value={v ?? ''} placeholder="id (UUID)" onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)} />;
  }
  if (kind === 'number') return <NumberInput schema={schema} value={value} onChange={onChange} common={common} />;
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  const set = (s: string) => onChange(s === '' ? undefined : s);
  if (isMultiline(name, schema)) {
    return <textarea {...common} rows={/manifest|patch|body|command/i.test(String(name)) ? 8 : 3} value={text} maxLength={schema.maxLength} spellCheck={false} onChange={(e) => set(e.target.value)} />;
  }
  return <input {...common} type="text" value={text} maxLength={schema.maxLength} placeholder={typeof schema.default === 'string' ? schema.default : undefined} onChange={(e) => set(e.target.value)} />;
}

/** A number input that keeps what is typed until it is a number (e.g. "-" or "1."). */
function NumberInput({ schema, value, onChange, common }: { schema: JsonSchema; value: unknown; onChange: (v: unknown) => void; common: Record<string, unknown> }) {
  const [state, setState] = useState({ text: typeof value === 'number' ? String(value) : '', committed: value });
  if (!deepEqual(state.committed, value)) setState({ text: typeof value === 'number' ? String(value) : '', committed: value });
  const integer = typeOf(schema) === 'integer';
  return (
    <input
      {...common}
      type="number"
      inputMode={integer ? 'numeric' : 'decimal'}
      step={integer ? 1 : 'any'}
      min={schema.minimum ?? schema.exclusiveMinimum}
      max={schema.maximum ?? schema.exclusiveMaximum}
      placeholder={typeof schema.default === 'number' ? String(schema.default) : undefined}
      value={state.text}
      onChange={(e) => {
        const text = e.target.value;
        const n = text.trim() === '' ? undefined : Number(text);
        if (n !== undefined && !Number.isFinite(n)) return setState({ text, committed: state.committed });
        setState({ text, committed: n });
        onChange(n);
      }}
    />
  );
}

/** The properties of an object, without a frame (the root, a union variant). */
function ObjectBody({ schema, value, onChange, path }: { schema: JsonSchema; value: JsonObject; onChange: (v: JsonObject | undefined) => void; path: Path }) {
  const set = (key: string, v: unknown) => {
    const next = { ...value };
    if (v === undefined) delete next[key];
    else next[key] = v;
    onChange(next);
  };
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([key, prop]) => (
        <Field key={key} schema={prop} name={key} path={[...path, key]} value={value[key]} required={schema.required?.includes(key) ?? false} onChange={(v) => set(key, v)} />
      ))}
    </>
  );
}

/** A nested object in a frame; an optional one has a "Use …" checkbox that adds or removes it. */
function ObjectField({ schema, name, path, value, required, onChange, label: labelProp }: FieldProps<JsonObject | undefined>) {
  const f = useField(path, name, schema, labelProp);
  const toggleId = `${f.id}-use`;
  return (
    <fieldset className="sf-group" aria-describedby={f.describedBy}>
      <legend>
        {f.label}
        {required && typeof name === 'string' && (
          <span className="sf-required" aria-hidden="true">
            {' '}
            *
          </span>
        )}
      </legend>
      <Hint id={f.id} schema={schema} />
      {!required && (
        <label className="sf-check" htmlFor={toggleId}>
          <input id={toggleId} type="checkbox" checked={value !== undefined} disabled={f.ctx.disabled} onChange={(e) => onChange(e.target.checked ? initialValue(schema, true) : undefined)} />
          <span>Use {lowerFirst(f.label)}</span>
        </label>
      )}
      <FieldError id={f.id} message={f.error} />
      {(value !== undefined || required) && <ObjectBody schema={schema} value={value ?? {}} onChange={(v) => onChange(v)} path={path} />}
    </fieldset>
  );
}

/** Rows kept while editing (empty or half-typed ones too), committed as the value when complete. */
function useRows<R>(value: unknown, toRows: (v: unknown) => R[]) {
  const [state, setState] = useState(() => ({ rows: toRows(value), committed: value }));
  if (!deepEqual(state.committed, value)) setState({ rows: toRows(value), committed: value });
  return [state.rows, (rows: R[], committed: unknown) => setState({ rows, committed })] as const;
}

interface RecordRow {
  key: string;
  value: unknown;
}

/** `additionalProperties`: key/value rows. */
function RecordField({ schema, name, path, value, required, onChange, label: labelProp }: FieldProps<JsonObject | undefined>) {
  const f = useField(path, name, schema, labelProp);
  const valueSchema: JsonSchema = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : {};
  const freeValue = isAnything(valueSchema);
  const [rows, setRows] = useRows<RecordRow>(value, (v) => (isObject(v) ? Object.entries(v).map(([key, value]) => ({ key, value })) : []));
  const commit = (next: RecordRow[]) => {
    const out: JsonObject = {};
    for (const r of next) if (r.key !== '' && r.value !== undefined) out[r.key] = r.value;
    const committed = Object.keys(out).length || required || schema.default !== undefined ? out : undefined;
    setRows(next, committed);
    onChange(committed);
  };
  return (
    <fieldset className="sf-group" aria-describedby={f.describedBy}>
      <legend>{f.label}</legend>
      <Hint id={f.id} schema={schema} />
      <FieldError id={f.id} message={f.error} />
      {rows.length > 0 && (
        <div className="sf-rows">
          {rows.map((row, i) => {
            const rowId = `${f.id}-${i}`;
            const err = row.key ? f.ctx.errors[pathKey([...path, row.key])] : undefined;
            return (
              <div className="sf-row sf-record-row" key={i}>
                <input
                  id={`${rowId}-key`}
                  type="text"
                  aria-label={`${f.label} key ${i + 1}`}
                  placeholder="key"
                  value={row.key}
                  disabled={f.ctx.disabled}
                  onChange={(e) => commit(rows.map((r, k) => (k === i ? { ...r, key: e.target.value } : r)))}
                />
                <Primitive
                  schema={freeValue ? { type: 'string' } : valueSchema}
                  name={undefined}
                  path={[...path, i]}
                  value={row.value}
                  required={false}
                  onChange={(v) => commit(rows.map((r, k) => (k === i ? { ...r, value: v === undefined && (freeValue || typeOf(valueSchema) === 'string') ? '' : v } : r)))}
                  id={`${rowId}-value`}
                  label={`${f.label} value ${i + 1}`}
                  ariaLabel={`${f.label} value ${i + 1}`}
                  invalid={Boolean(err)}
                  describedBy={err ? fieldErrorId(`${rowId}-value`) : undefined}
                />
                <button type="button" className="link" aria-label={`Remove ${f.label} ${i + 1}`} disabled={f.ctx.disabled} onClick={() => commit(rows.filter((_, k) => k !== i))}>
                  Remove
                </button>
                <FieldError id={`${rowId}-value`} message={err} />
              </div>
            );
          })}
        </div>
      )}
      <div>
        <button type="button" aria-label={`Add ${f.label}`} disabled={f.ctx.disabled} onClick={() => commit([...rows, { key: '', value: freeValue || typeOf(valueSchema) === 'string' ? '' : initialValue(valueSchema, true) }])}>
          + Add
        </button>
      </div>
    </fieldset>
  );
}

/** Arrays: rows of inputs for primitives, of sub-forms for objects. */
function ArrayField({ schema, name, path, value, required, onChange, label: labelProp }: FieldProps<unknown[] | undefined>) {
  const f = useField(path, name, schema, labelProp);
  const items = schema.items as JsonSchema;
  const primitive = !['object', 'record', 'union', 'array', 'json'].includes(fieldKind(items));
  const [rows, setRows] = useRows<unknown>(value, (v) => (Array.isArray(v) ? v : []));
  const commit = (next: unknown[]) => {
    const kept = primitive ? next.filter((v) => v !== undefined && v !== '') : next;
    const committed = kept.length || required || schema.default !== undefined ? kept : undefined;
    setRows(next, committed);
    onChange(committed);
  };
  const itemLabel = (i: number) => `${f.label} ${i + 1}`;
  return (
    <fieldset className="sf-group" aria-describedby={f.describedBy}>
      <legend>
        {f.label}
        {required && (schema.minItems ?? 0) > 0 && (
          <span className="sf-required" aria-hidden="true">
            {' '}
            *
          </span>
        )}
      </legend>
      <Hint id={f.id} schema={schema} />
      <FieldError id={f.id} message={f.error} />
      {rows.length > 0 && (
        <div className="sf-rows">
          {rows.map((row, i) => {
            const rowPath = [...path, i];
            const rowId = idFor(f.ctx.idPrefix, rowPath);
            const err = f.ctx.errors[pathKey(rowPath)];
            const remove = (
              <button type="button" className="link" aria-label={`Remove ${itemLabel(i)}`} disabled={f.ctx.disabled} onClick={() => commit(rows.filter((_, k) => k !== i))}>
                Remove
              </button>
            );
            if (primitive) {
              return (
                <div className="sf-row" key={i}>
                  <Primitive
                    schema={items}
                    name={undefined}
                    path={rowPath}
                    value={row}
                    required={false}
                    onChange={(v) => commit(rows.map((r, k) => (k === i ? (v === undefined && typeOf(items) === 'string' ? '' : v) : r)))}
                    id={rowId}
                    label={itemLabel(i)}
                    ariaLabel={itemLabel(i)}
                    invalid={Boolean(err)}
                    describedBy={err ? fieldErrorId(rowId) : undefined}
                  />
                  {remove}
                  <FieldError id={rowId} message={err} />
                </div>
              );
            }
            return (
              <div className="sf-row sf-object-row" key={i}>
                <Field schema={items} name={i} path={rowPath} value={row} required label={itemLabel(i)} onChange={(v) => commit(rows.map((r, k) => (k === i ? v : r)))} />
                {remove}
              </div>
            );
          })}
        </div>
      )}
      <div>
        <button
          type="button"
          aria-label={`Add ${f.label}`}
          disabled={f.ctx.disabled || (schema.maxItems !== undefined && rows.length >= schema.maxItems)}
          onClick={() => commit([...rows, primitive ? (typeOf(items) === 'string' ? '' : undefined) : initialValue(items, true)])}
        >
          + Add
        </button>
      </div>
    </fieldset>
  );
}

/** anyOf/oneOf: a selector of the variant, then the variant's fields. */
function UnionField({ schema, name, path, value, required, onChange, label: labelProp }: FieldProps) {
  const f = useField(path, name, schema, labelProp);
  const variants = variantsOf(schema)!;
  const disc = discriminatorOf(variants);
  // A variant whose new value is still empty (e.g. Text before anything is typed) stays picked.
  const [picked, setPicked] = useState<number | null>(null);
  const index = value !== undefined ? variantIndex(variants, value) : (picked ?? (required ? 0 : -1));
  const selectId = `${f.id}-variant`;
  const variant = index >= 0 ? variants[index] : undefined;
  const selectorLabel = `${f.label} ${disc ? lowerFirst(humanise(disc)) : 'type'}`;
  const free = variant && isFreeJson(variant);
  return (
    <fieldset className="sf-group" aria-describedby={f.describedBy}>
      <legend>
        {f.label}
        {required && (
          <span className="sf-required" aria-hidden="true">
            {' '}
            *
          </span>
        )}
      </legend>
      <Hint id={f.id} schema={schema} />
      <div className="field sf-field">
        <label htmlFor={selectId}>{selectorLabel}</label>
        <select
          id={selectId}
          value={String(index)}
          disabled={f.ctx.disabled}
          onChange={(e) => {
            const i = Number(e.target.value);
            setPicked(i);
            onChange(i < 0 ? undefined : initialValue(variants[i], true));
          }}
        >
          {(!required || index < 0) && <option value="-1">{required ? 'Choose…' : '(none)'}</option>}
          {variants.map((v, i) => (
            <option key={i} value={String(i)}>
              {variantLabel(v, disc)}
            </option>
          ))}
        </select>
      </div>
      {variant && fieldKind(variant) === 'object' ? (
        <>
          <FieldError id={f.id} message={f.error} />
          <ObjectBody schema={variant} value={isObject(value) ? value : {}} onChange={(v) => onChange(v)} path={path} />
        </>
      ) : variant && free ? (
        <JsonField schema={variant} name={name} path={path} value={value} required={required} onChange={onChange} label={f.label} />
      ) : variant ? (
        <Field schema={{ ...variant, description: undefined }} name={name} path={path} value={value} required={required} onChange={onChange} label={f.label} />
      ) : (
        <FieldError id={f.id} message={f.error} />
      )}
    </fieldset>
  );
}

/** A variant that is any JSON object or any JSON array. */
function isFreeJson(s: JsonSchema): boolean {
  const t = typeOf(s);
  if (t === 'object') return !s.properties && isAnything(s.additionalProperties);
  if (t === 'array') return !Array.isArray(s.items) && isAnything(s.items);
  return t === undefined;
}

/** Any JSON (or any JSON object / array): a textarea that must parse. */
function JsonField({ schema, name, path, value, required, onChange, label: labelProp }: FieldProps) {
  const f = useField(path, name, schema, labelProp);
  const show = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 2));
  const [state, setState] = useState({ text: show(value), committed: value, problem: '' });
  if (!deepEqual(state.committed, value)) setState({ text: show(value), committed: value, problem: '' });
  const want = typeOf(schema);
  const problem = state.problem || f.error;
  const errId = `${f.id}-json`;
  return (
    <div className="field sf-field">
      <Label id={f.id} label={f.label} required={required} />
      <textarea
        id={f.id}
        rows={6}
        spellCheck={false}
        value={state.text}
        disabled={f.ctx.disabled}
        aria-invalid={Boolean(problem) || undefined}
        aria-required={required || undefined}
        aria-describedby={[schema.description && hintId(f.id), problem && fieldErrorId(errId)].filter(Boolean).join(' ') || undefined}
        onChange={(e) => {
          const text = e.target.value;
          if (text.trim() === '') {
            setState({ text, committed: undefined, problem: '' });
            return onChange(undefined);
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch (err) {
            return setState({ text, committed: state.committed, problem: `is not valid JSON: ${(err as Error).message}` });
          }
          const t = Array.isArray(parsed) ? 'array' : parsed === null ? 'null' : typeof parsed;
          if (want && want !== t && !(want === 'integer' && t === 'number')) return setState({ text, committed: state.committed, problem: `must be a JSON ${want}` });
          setState({ text, committed: parsed, problem: '' });
          onChange(parsed);
        }}
      />
      <Hint id={f.id} schema={schema} />
      <FieldError id={errId} message={problem} />
    </div>
  );
}
