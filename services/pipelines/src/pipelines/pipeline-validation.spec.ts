import { findCycles, validatePipeline } from './pipeline-validation';

const T = '11111111-1111-4111-8111-111111111111';
const stage = (refId: string, type: string, config: Record<string, unknown>, dependsOn: string[] = []) => ({ refId, name: refId, type, config, dependsOn });

describe('validatePipeline', () => {
  it('normalizes a valid document, filling defaults', () => {
    const out = validatePipeline({ name: 'p', stages: [stage('scale', 'SCALE', { targetId: T, kind: 'Deployment', name: 'web', replicas: 3 })] });
    expect(out.problems).toEqual([]);
    expect(out.document!.stages[0]).toMatchObject({ failurePolicy: 'FAIL_PIPELINE', dependsOn: [] });
    expect(out.references).toEqual([{ path: 'targetId', kind: 'deployment-target', id: T, field: 'stages[0].config.targetId' }]);
  });

  it('reports every problem at once, each with its path', () => {
    const out = validatePipeline({
      name: '',
      stages: [
        stage('a', 'SCALE', { targetId: T, kind: 'Deployment', name: 'web', replicas: 'three' }),
        stage('a', 'WEBHOOK', { url: 'ftp://x' }),
        stage('c', 'NOPE', {}),
        stage('d', 'JUDGEMENT', {}, ['zzz']),
      ],
    });
    expect(out.document).toBeNull();
    const fields = out.problems.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'stages[0].config.replicas', 'stages[1].refId', 'stages[1].config.url', 'stages[2].type', 'stages[3].dependsOn[0]']));
    expect(out.problems.find((p) => p.field === 'stages[0].config.replicas')!.message).toBe('must be a number');
  });

  it('names a cycle', () => {
    const out = validatePipeline({ name: 'p', stages: [stage('a', 'JUDGEMENT', {}, ['c']), stage('b', 'JUDGEMENT', {}, ['a']), stage('c', 'JUDGEMENT', {}, ['b'])] });
    expect(out.problems).toEqual([{ field: 'stages[0].dependsOn', message: 'forms a cycle: a → c → b → a; remove one of these dependencies' }]);
  });

  it('requires a precondition to have its judgement upstream', () => {
    const precondition = stage('check', 'PRECONDITION', { judgementRefId: 'judge', values: ['yes'] });
    const notUpstream = validatePipeline({ name: 'p', stages: [stage('judge', 'JUDGEMENT', { options: ['yes', 'no'] }), precondition] });
    expect(notUpstream.problems).toEqual([{ field: 'stages[1].config.judgementRefId', message: 'judgement "judge" is not upstream of this stage; add it to dependsOn (directly or through other stages)' }]);
    const upstream = validatePipeline({ name: 'p', stages: [stage('judge', 'JUDGEMENT', {}), stage('mid', 'APPROVAL', {}, ['judge']), { ...precondition, dependsOn: ['mid'] }] });
    expect(upstream.problems).toEqual([]);
  });

  it('refuses a document over 2 MB', () => {
    const out = validatePipeline({ name: 'p', description: 'x'.repeat(2 * 1024 * 1024), stages: [] });
    expect(out.problems[0]).toMatchObject({ field: 'document', message: expect.stringMatching(/may be at most 2 MB/) });
  });

  it('finds each cycle once', () => {
    const cycles = findCycles(new Map([['a', ['b']], ['b', ['a', 'c']], ['c', ['c']]]));
    expect(cycles).toEqual([['a', 'b'], ['c']]);
  });
});
