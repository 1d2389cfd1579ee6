import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/stage-types.json';
import { dependencyProblem, freshRefId, fromPipeline, newStage, sameDraft, splitErrors, toInput, withDependency, withoutStage, type StageTypeInfo } from './draft';
import type { PipelineEditorFieldsFragment } from '../gql/graphql';

const types = fixture as unknown as StageTypeInfo[];
const t = (type: string) => types.find((x) => x.type === type)!;

const loaded: PipelineEditorFieldsFragment = {
  id: 'p',
  projectId: 'proj',
  name: 'demo',
  description: null,
  revision: 3,
  latestRevision: 3,
  maxConcurrentRuns: null,
  updatedAt: '2024-01-01T00:00:00Z',
  updatedBy: 'dev',
  parameters: [{ name: 'version', label: null, description: null, default: '1', required: false, options: ['1', '2'] }],
  stages: [
    { refId: 'a', name: 'A', type: 'WEBHOOK', dependsOn: [], config: { url: 'https://x', method: 'POST' }, startCondition: null, endCondition: { artifacts: [{ name: 'x', from: 'status' }] }, failurePolicy: 'FAIL_PIPELINE', timeoutSeconds: null, retry: null },
    { refId: 'b', name: 'B', type: 'JUDGEMENT', dependsOn: ['a'], config: { options: [] }, startCondition: null, endCondition: null, failurePolicy: 'CONTINUE', timeoutSeconds: 60, retry: { maxAttempts: 2, backoffSeconds: 5 } },
  ],
};

describe('draft', () => {
  it('round-trips a pipeline into the API input, leaving out what is empty', () => {
    const d = fromPipeline(loaded);
    const { input, problems } = toInput(d);
    expect(problems).toEqual({});
    expect(input).toEqual({
      name: 'demo',
      parameters: [{ name: 'version', default: '1', required: false, options: ['1', '2'] }],
      stages: [
        { refId: 'a', name: 'A', type: 'WEBHOOK', dependsOn: [], config: { url: 'https://x', method: 'POST' }, endCondition: { artifacts: [{ name: 'x', from: 'status' }] }, failurePolicy: 'FAIL_PIPELINE' },
        { refId: 'b', name: 'B', type: 'JUDGEMENT', dependsOn: ['a'], config: { options: [] }, failurePolicy: 'CONTINUE', timeoutSeconds: 60, retry: { maxAttempts: 2, backoffSeconds: 5 } },
      ],
    });
  });

  it('is dirty only when something changed (key order does not count)', () => {
    const d = fromPipeline(loaded);
    const same = { ...d, stages: d.stages.map((s) => ({ ...s, config: Object.fromEntries(Object.entries(s.config).reverse()) })) };
    expect(sameDraft(d, same)).toBe(true);
    expect(sameDraft(d, { ...d, name: 'other' })).toBe(false);
    expect(sameDraft(d, { ...d, stages: d.stages.map((s, i) => (i === 0 ? { ...s, startCondition: '{' } : s)) })).toBe(false);
  });

  it('reports conditions that are not JSON at their field', () => {
    const d = fromPipeline(loaded);
    d.stages[1].startCondition = '{nope';
    expect(Object.keys(toInput(d).problems)).toEqual(['stages.1.startCondition']);
  });

  it('adds stages with a fresh refId, the label as name, after the selected or the last stage', () => {
    const d = fromPipeline(loaded);
    const s = newStage(t('WEBHOOK'), d.stages, null);
    expect(s).toMatchObject({ refId: 'webhook', name: 'Webhook', dependsOn: ['b'], config: { method: 'POST', headers: {}, failFastStatusCodes: [], timeoutSeconds: 30 } });
    expect(newStage(t('SCALE'), d.stages, 'a').dependsOn).toEqual(['a']);
    expect(newStage(t('SCALE'), [], null).dependsOn).toEqual([]);
    expect(freshRefId('WEBHOOK', [{ refId: 'webhook' }, { refId: 'webhook-2' }])).toBe('webhook-3');
  });

  it('edits dependencies without cycles', () => {
    const d = fromPipeline(loaded);
    expect(dependencyProblem(d.stages, 'b', 'a')).toMatch(/cycle/);
    expect(dependencyProblem(d.stages, 'a', 'a')).toMatch(/itself/);
    expect(dependencyProblem(d.stages, 'a', 'b')).toMatch(/already/);
    expect(withDependency(d.stages, 'b', 'a')).toBe(d.stages);
    expect(withoutStage(d.stages, 'a')).toEqual([{ ...d.stages[1], dependsOn: [] }]);
  });

  it('splits server problems by where they are shown', () => {
    const split = splitErrors(
      {
        name: 'must not be empty',
        'parameters.0.name': 'must be an identifier',
        'stages.0.config.url': 'must be an http(s):// URL (or an expression)',
        'stages.1.name': 'must not be empty',
        'stages.1.dependsOn.1': 'names no stage',
        'stages.1.startCondition.artifacts': 'must list at least one artifact',
        'stages.7.name': 'no such stage sent',
        stages: 'must have at most 500 stages',
        document: 'too big',
      },
      ['a', 'b'],
      1,
    );
    expect(split.pipeline).toEqual({ name: 'must not be empty' });
    expect(split.parameters).toEqual({ 0: { name: 'must be an identifier' } });
    expect(split.stages).toEqual({
      a: { 'config.url': 'must be an http(s):// URL (or an expression)' },
      b: { name: 'must not be empty', 'dependsOn.1': 'names no stage', 'startCondition.artifacts': 'must list at least one artifact' },
    });
    expect(split.unclaimed.map((u) => u.field)).toEqual(['stages.7.name', 'stages', 'document']);
  });
});
