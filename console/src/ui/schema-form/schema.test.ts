import { describe, expect, it } from 'vitest';
import { discriminatorOf, fieldKind, fieldPaths, humanise, initialValue, isMultiline, resourceKindOf, stableStringify, variantIndex, variantLabel, type JsonSchema } from './schema';

describe('humanise', () => {
  it.each([
    ['registryId', { type: 'string', format: 'uuid' }, 'Registry'],
    ['buildToolId', { type: 'string', format: 'uuid' }, 'Build tool'],
    ['chartRepositoryId', { type: 'string', 'x-resource': 'CHART_REPOSITORY' }, 'Chart repository'],
    ['imageName', { type: 'string' }, 'Image name'],
    ['url', { type: 'string' }, 'URL'],
    ['judgementRefId', { type: 'string' }, 'Judgement ref ID'],
    ['timeLimitMinutes', { type: 'integer' }, 'Time limit (minutes)'],
    ['memoryMb', { type: 'integer' }, 'Memory (MB)'],
    ['stableTimeoutSeconds', { type: 'integer' }, 'Stable timeout (seconds)'],
    ['failFastStatusCodes', { type: 'array' }, 'Fail fast status codes'],
    ['cpu', { type: 'number' }, 'CPU'],
    ['x', { type: 'string', title: 'A title' }, 'A title'],
  ] as [string, JsonSchema, string][])('%s → %s', (name, schema, label) => {
    expect(humanise(name, schema)).toBe(label);
  });
});

describe('resourceKindOf', () => {
  it('uses x-resource when the server gives it', () => {
    expect(resourceKindOf('anything', { type: 'string', 'x-resource': 'PIPELINE' })).toBe('PIPELINE');
  });
  it('falls back to the property name for uuid strings without x-resource', () => {
    expect(resourceKindOf('repositoryId', { type: 'string', format: 'uuid' })).toBe('SOURCE_REPOSITORY');
    expect(resourceKindOf('buildToolId', { type: 'string', format: 'uuid' })).toBe('BUILD_TOOL');
    expect(resourceKindOf('registryId', { type: 'string', format: 'uuid' })).toBe('IMAGE_REGISTRY');
    expect(resourceKindOf('chartRepositoryId', { type: 'string', format: 'uuid' })).toBe('CHART_REPOSITORY');
    expect(resourceKindOf('targetId', { type: 'string', format: 'uuid' })).toBe('DEPLOYMENT_TARGET');
    expect(resourceKindOf('pipelineId', { type: 'string', format: 'uuid' })).toBe('PIPELINE');
    expect(resourceKindOf('name', { type: 'string' })).toBeUndefined();
    expect(resourceKindOf('targetId', { type: 'integer' })).toBeUndefined();
    expect(fieldKind({ type: 'string', format: 'uuid' }, 'targetId')).toBe('resource');
  });
});

describe('fieldKind and friends', () => {
  it('classifies', () => {
    expect(fieldKind({ type: 'string', enum: ['A', 'B'] })).toBe('enum');
    expect(fieldKind({ type: 'object', additionalProperties: { type: 'string' } })).toBe('record');
    expect(fieldKind({ type: 'object', additionalProperties: {} })).toBe('record');
    expect(fieldKind({ type: 'array', items: { type: 'integer' } })).toBe('array');
    expect(fieldKind({ type: 'array', items: {} })).toBe('json');
    expect(fieldKind({})).toBe('json');
    expect(fieldKind({ anyOf: [{ type: 'string' }, { type: 'object' }] })).toBe('union');
  });
  it('tells long text', () => {
    expect(isMultiline('manifest', { type: 'string' })).toBe(true);
    expect(isMultiline('buildCommand', { type: 'string', maxLength: 65536 })).toBe(true);
    expect(isMultiline('description', { type: 'string', maxLength: 4096 })).toBe(true);
    expect(isMultiline('imageName', { type: 'string', maxLength: 255 })).toBe(false);
    expect(isMultiline('x', { type: 'string', 'x-multiline': true })).toBe(true);
  });
  it('builds initial values from defaults, consts and required objects', () => {
    const schema: JsonSchema = {
      type: 'object',
      required: ['a', 't'],
      properties: {
        a: { type: 'string', default: 'x' },
        b: { type: 'string' },
        n: { type: 'integer', default: 3 },
        o: { type: 'object', properties: { z: { type: 'string' } } },
        t: { anyOf: [{ type: 'object', required: ['source'], properties: { source: { type: 'string', const: 'GIT' } } }, { type: 'object', properties: { source: { type: 'string', const: 'REPO' } } }] },
      },
    };
    expect(initialValue(schema, true)).toEqual({ a: 'x', n: 3, t: { source: 'GIT' } });
  });
  it('finds a union variant by discriminator or by type', () => {
    const variants: JsonSchema[] = [
      { type: 'object', properties: { source: { type: 'string', const: 'GIT_FILE' } } },
      { type: 'object', properties: { source: { type: 'string', const: 'CHART_REPOSITORY' } } },
    ];
    expect(discriminatorOf(variants)).toBe('source');
    expect(variantIndex(variants, { source: 'CHART_REPOSITORY' })).toBe(1);
    expect(variantLabel(variants[1], 'source')).toBe('Chart repository');
    const body: JsonSchema[] = [{ type: 'string' }, { type: 'object', additionalProperties: {} }, { type: 'array', items: {} }];
    expect(variantIndex(body, [1])).toBe(2);
    expect(variantIndex(body, 'x')).toBe(0);
    expect(variantIndex(body, undefined)).toBe(-1);
    expect(body.map((v) => variantLabel(v, undefined))).toEqual(['Text', 'JSON object', 'JSON array']);
  });
  it('lists the paths it renders', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: { h: { type: 'object', additionalProperties: { type: 'string' } }, l: { type: 'array', items: { type: 'object', properties: { k: { type: 'string' } } } } },
    };
    expect(fieldPaths(schema, { h: { A: '1' }, l: [{ k: 'x' }] })).toEqual(['', 'h', 'h.A', 'l', 'l.0', 'l.0.k']);
  });
  it('stringifies stably', () => {
    expect(stableStringify({ b: 1, a: [{ d: 1, c: 2 }], u: undefined })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });
});
