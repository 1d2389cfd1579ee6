import { evaluate, type ExpressionScope } from './expressions';

const scope: ExpressionScope = {
  parameters: { env: 'prod', replicas: '3' },
  stages: { build: { status: 'SUCCEEDED', outputs: { image: 'reg/app:7', tags: ['7', 'latest'] } } },
  artifacts: { manifest: 'kind: ConfigMap' },
  run: { id: 'r1', number: 42 },
};

describe('evaluate', () => {
  it('replaces whole expressions by their value and interpolates inside text', () => {
    expect(evaluate({ url: 'https://x/${parameters.env}/${run.number}', image: '${stages.build.outputs.image}', tag: '${stages.build.outputs.tags[1]}', n: '${run.number}' }, scope)).toEqual({
      url: 'https://x/prod/42',
      image: 'reg/app:7',
      tag: 'latest',
      n: 42,
    });
    expect(evaluate(['${artifacts.manifest}', 5, true], scope)).toEqual(['kind: ConfigMap', 5, true]);
  });

  it('names the field, the expression and the missing step', () => {
    expect(() => evaluate({ body: { image: '${stages.build.outputs.digest}' } }, scope)).toThrow(
      'config.body.image: ${stages.build.outputs.digest} cannot be resolved: "stages.build.outputs" has no "digest" (it has image, tags)',
    );
    expect(() => evaluate('${parameters.nope}', scope, 'config.url')).toThrow('config.url: ${parameters.nope} cannot be resolved: "parameters" has no "nope" (it has env, replicas)');
    expect(() => evaluate('${process.env.SECRET}', scope)).toThrow('must start with parameters, stages, artifacts, run');
  });
});
