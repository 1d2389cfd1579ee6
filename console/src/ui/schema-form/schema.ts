/**
 * The subset of JSON Schema draft-07 the form understands: what zod-to-json-schema produces for
 * the stage configs (`$refStrategy: none`), plus `x-resource` (set by the pipelines service on
 * fields that hold the id of an environment resource or a pipeline) and `x-multiline`.
 */
export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

export type ResourceKind = 'SOURCE_REPOSITORY' | 'BUILD_TOOL' | 'IMAGE_REGISTRY' | 'CHART_REPOSITORY' | 'DEPLOYMENT_TARGET' | 'PIPELINE';

export interface JsonSchema {
  type?: JsonType | JsonType[];
  title?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema | JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  'x-resource'?: ResourceKind;
  'x-multiline'?: boolean;
}

export type Path = (string | number)[];
export const pathKey = (path: Path) => path.join('.');

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The schema's own type (the first of a type list). */
export function typeOf(schema: JsonSchema): JsonType | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null');
  if (schema.type) return schema.type;
  if (schema.properties) return 'object';
  if (schema.const !== undefined) return jsonTypeOfValue(schema.const);
  if (schema.enum?.length) return jsonTypeOfValue(schema.enum[0]);
  return undefined;
}

export function jsonTypeOfValue(v: unknown): JsonType | undefined {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'object') return typeof v as JsonType;
  return undefined;
}

export const variantsOf = (schema: JsonSchema): JsonSchema[] | undefined => schema.anyOf ?? schema.oneOf;

/** An item or value schema that allows anything (`{}` or `true`). */
export function isAnything(schema: JsonSchema | boolean | undefined): boolean {
  if (schema === true || schema === undefined) return true;
  if (schema === false) return false;
  return Object.keys(schema).filter((k) => k !== 'description' && k !== 'title' && k !== 'default').length === 0;
}

export type FieldKind = 'union' | 'const' | 'enum' | 'resource' | 'string' | 'number' | 'boolean' | 'object' | 'record' | 'array' | 'json';

/** The kind of resource a string field holds the id of: `x-resource`, else inferred from its name. */
export function resourceKindOf(name: string | number | undefined, schema: JsonSchema): ResourceKind | undefined {
  if (schema['x-resource']) return schema['x-resource'];
  if (typeof name !== 'string' || typeOf(schema) !== 'string' || (schema.format && schema.format !== 'uuid')) return undefined;
  return RESOURCE_BY_PROPERTY[name];
}

/**
 * Fallback while a server does not send `x-resource` yet: the property names the stage configs
 * use for resource ids (libs/contracts/src/stages).
 */
export const RESOURCE_BY_PROPERTY: Record<string, ResourceKind> = {
  repositoryId: 'SOURCE_REPOSITORY',
  buildToolId: 'BUILD_TOOL',
  registryId: 'IMAGE_REGISTRY',
  chartRepositoryId: 'CHART_REPOSITORY',
  targetId: 'DEPLOYMENT_TARGET',
  pipelineId: 'PIPELINE',
};

export function fieldKind(schema: JsonSchema, name?: string | number): FieldKind {
  if (variantsOf(schema)?.length) return 'union';
  if (schema.const !== undefined) return 'const';
  if (schema.enum?.length) return 'enum';
  const type = typeOf(schema);
  switch (type) {
    case 'string':
      return resourceKindOf(name, schema) ? 'resource' : 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object':
      if (schema.properties) return 'object';
      return schema.additionalProperties === false ? 'object' : 'record';
    case 'array':
      return !Array.isArray(schema.items) && schema.items && !isAnything(schema.items) ? 'array' : 'json';
    default:
      return 'json';
  }
}

/** A long text field: `x-multiline`, a long maxLength, or a name that says so (manifest, body, patch, command, ...). */
export function isMultiline(name: string | number | undefined, schema: JsonSchema): boolean {
  if (schema['x-multiline'] !== undefined) return schema['x-multiline'];
  if ((schema.maxLength ?? 0) > 1024) return true;
  if (typeof name !== 'string') return false;
  return /(manifest|body|patch|script|command|description|message|yaml|json)$/i.test(name);
}

const ACRONYMS: Record<string, string> = { url: 'URL', id: 'ID', cpu: 'CPU', json: 'JSON', yaml: 'YAML', http: 'HTTP', uri: 'URI', ip: 'IP', tls: 'TLS' };
const UNITS: Record<string, string> = { seconds: 'seconds', minutes: 'minutes', ms: 'ms', mb: 'MB', gb: 'GB' };

/**
 * A field's label: its title, else its property name made readable: `registryId` → "Registry"
 * (a resource id), `imageName` → "Image name", `timeLimitMinutes` → "Time limit (minutes)",
 * `memoryMb` → "Memory (MB)", `url` → "URL".
 */
export function humanise(name: string | number, schema?: JsonSchema): string {
  if (schema?.title) return schema.title;
  if (typeof name === 'number') return `Item ${name + 1}`;
  let base = name;
  if (schema && resourceKindOf(name, schema) && /[a-z]Id$/.test(base)) base = base.slice(0, -2);
  const words = base
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .split(/\s+/)
    .map((w) => w.toLowerCase());
  let unit: string | undefined;
  if (words.length > 1 && UNITS[words[words.length - 1]] && schema && (typeOf(schema) === 'integer' || typeOf(schema) === 'number')) unit = UNITS[words.pop()!];
  const text = words.map((w, i) => ACRONYMS[w] ?? (i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w)).join(' ');
  return unit ? `${text} (${unit})` : text;
}

export const lowerFirst = (s: string) => (/^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s);

export const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/**
 * The value a new field starts with: its default, its const, and for a required object every
 * property that has one (recursively); nothing for an optional field without a default.
 */
export function initialValue(schema: JsonSchema, required: boolean): unknown {
  if (schema.default !== undefined) return clone(schema.default);
  if (schema.const !== undefined) return schema.const;
  const variants = variantsOf(schema);
  if (variants?.length) return required ? initialValue(variants[0], true) : undefined;
  if (!required) return undefined;
  switch (fieldKind(schema)) {
    case 'object': {
      const out: JsonObject = {};
      for (const [key, prop] of Object.entries(schema.properties ?? {})) {
        const v = initialValue(prop, schema.required?.includes(key) ?? false);
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
    case 'record':
      return {};
    case 'array':
      return [];
    case 'boolean':
      return false;
    case 'enum':
      return schema.enum?.length === 1 ? schema.enum[0] : undefined;
    default:
      return undefined;
  }
}

/** The property every variant fixes to a different const (e.g. `source`), if any. */
export function discriminatorOf(variants: JsonSchema[]): string | undefined {
  const first = variants[0]?.properties;
  if (!first) return undefined;
  return Object.keys(first).find((key) => {
    const consts = variants.map((v) => v.properties?.[key]?.const);
    return consts.every((c) => c !== undefined) && new Set(consts.map((c) => JSON.stringify(c))).size === consts.length;
  });
}

/** Which variant a value is: by its discriminator, else by its JSON type; -1 for none. */
export function variantIndex(variants: JsonSchema[], value: unknown): number {
  if (value === undefined) return -1;
  const disc = discriminatorOf(variants);
  if (disc && isObject(value)) {
    const i = variants.findIndex((v) => JSON.stringify(v.properties?.[disc]?.const) === JSON.stringify(value[disc]));
    if (i >= 0) return i;
  }
  const t = jsonTypeOfValue(value);
  const i = variants.findIndex((v) => {
    const vt = typeOf(v);
    return vt === t || (vt === 'number' && t === 'integer');
  });
  return i >= 0 ? i : 0;
}

/** A variant's name in the selector: its title, its discriminator value made readable, or its type. */
export function variantLabel(variant: JsonSchema, discriminator: string | undefined): string {
  if (variant.title) return variant.title;
  const c = discriminator ? variant.properties?.[discriminator]?.const : undefined;
  if (typeof c === 'string') return humanise(c.toLowerCase().replace(/_/g, ' '));
  switch (fieldKind(variant)) {
    case 'string':
    case 'enum':
      return 'Text';
    case 'number':
      return 'Number';
    case 'boolean':
      return 'Yes or no';
    case 'object':
    case 'record':
      return isAnything(variant.additionalProperties) && !variant.properties ? 'JSON object' : 'Object';
    case 'array':
      return 'List';
    default:
      return typeOf(variant) === 'array' ? 'JSON array' : 'JSON';
  }
}

/** JSON with object keys sorted: equal values give equal text. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : stableStringify(x))).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(v[k])}`).join(',')}}`;
  }
  return v === undefined ? 'undefined' : JSON.stringify(v);
}

export const deepEqual = (a: unknown, b: unknown) => stableStringify(a) === stableStringify(b);

/**
 * The paths the form shows a field for, given the value (which variant, which rows): errors at
 * any other path are shown at the top of the form, so none is lost.
 */
export function fieldPaths(schema: JsonSchema, value: unknown, path: Path = []): string[] {
  const out = [pathKey(path)];
  switch (fieldKind(schema, path[path.length - 1])) {
    case 'union': {
      const variants = variantsOf(schema)!;
      const i = variantIndex(variants, value);
      if (i >= 0) out.push(...fieldPaths(variants[i], value, path).slice(1));
      break;
    }
    case 'object':
      if (isObject(value) || path.length === 0)
        for (const [key, prop] of Object.entries(schema.properties ?? {})) out.push(...fieldPaths(prop, isObject(value) ? value[key] : undefined, [...path, key]));
      break;
    case 'record':
      if (isObject(value)) for (const key of Object.keys(value)) out.push(pathKey([...path, key]));
      break;
    case 'array':
      if (Array.isArray(value)) value.forEach((item, i) => out.push(...fieldPaths(schema.items as JsonSchema, item, [...path, i])));
      break;
  }
  return out;
}
