/**
 * For every stage type: its config form (generated from the type's configSchema, as the API
 * returns it: __fixtures__/stage-types.json) renders, and what is filled in through the labelled
 * controls becomes a config that the type's schema accepts (ajv). Run once with the schemas as
 * the server sends them (x-resource on id fields) and once without x-resource, where the form
 * falls back to recognising resource ids by property name.
 */
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import Ajv from 'ajv';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonObject, JsonSchema } from '../ui/schema-form';
import fixture from './__fixtures__/stage-types.json';
import { newStage, type DraftStage, type StageTypeInfo } from './draft';
import { StageConfigForm } from './editor/StageForm';
import { IDS, SELF_PIPELINE, renderInProject, resourceName } from './test/harness';

afterEach(cleanup);

const withResources = fixture as unknown as StageTypeInfo[];
const strip = (v: unknown): unknown => (Array.isArray(v) ? v.map(strip) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'x-resource').map(([k, x]) => [k, strip(x)])) : v);
const withoutResources = withResources.map((t) => ({ ...t, configSchema: strip(t.configSchema) as JsonSchema }));

const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
function accepted(schema: JsonSchema, config: unknown) {
  const validate = ajv.compile(schema);
  const ok = validate(config);
  return { ok, errors: ajv.errorsText(validate.errors) };
}

const judgement: DraftStage = { ...newStage(withResources.find((t) => t.type === 'JUDGEMENT')!, [], null), refId: 'judge', name: 'Judge' };

function Harness({ info, others }: { info: StageTypeInfo; others: DraftStage[] }) {
  const [stage, setStage] = useState(() => newStage(info, others, null));
  return (
    <>
      <StageConfigForm stage={stage} stages={[...others, stage]} info={info} pipelineId={SELF_PIPELINE} onChange={(config: JsonObject) => setStage((s) => ({ ...s, config }))} />
      <output data-testid="config">{JSON.stringify(stage.config)}</output>
    </>
  );
}

const config = () => JSON.parse(screen.getByTestId('config').textContent ?? '{}') as JsonObject;
const type = (label: string, value: string, scope: HTMLElement = document.body) => fireEvent.change(within(scope).getByLabelText(label), { target: { value } });
const click = (name: string) => fireEvent.click(screen.getByRole('button', { name }));
const check = (label: string) => fireEvent.click(screen.getByLabelText(label));
function choose(label: string, optionText: string) {
  const select = screen.getByLabelText(label) as HTMLSelectElement;
  const option = Array.from(select.options).find((o) => o.text === optionText);
  if (!option) throw new Error(`"${label}" has no option "${optionText}" (has ${Array.from(select.options, (o) => o.text).join(', ')})`);
  fireEvent.change(select, { target: { value: option.value } });
}
/** A resource picker: wait for the project's resources to load, then pick one by name. */
async function pickResource(label: string, kind: keyof typeof IDS) {
  const select = screen.getByLabelText(label) as HTMLSelectElement;
  expect(select.tagName).toBe('SELECT');
  await waitFor(() => expect(Array.from(select.options, (o) => o.text)).toContain(resourceName(kind)));
  choose(label, resourceName(kind));
}

type Fill = { others?: DraftStage[]; fill: () => Promise<void> | void; expect: JsonObject };

/** What to fill in for each stage type, and (part of) the config that must come out. */
const FILLS: Record<string, Fill> = {
  SOURCE_GITHUB: {
    fill: async () => {
      await pickResource('Repository', 'SOURCE_REPOSITORY');
      type('Branch', 'main');
      type('Branch', '');
    },
    expect: { repositoryId: IDS.SOURCE_REPOSITORY },
  },
  SOURCE_GITLAB: {
    fill: async () => {
      await pickResource('Repository', 'SOURCE_REPOSITORY');
      type('Branch', 'release');
    },
    expect: { repositoryId: IDS.SOURCE_REPOSITORY, branch: 'release' },
  },
  BUILD_JENKINS: {
    fill: async () => {
      await pickResource('Build tool', 'BUILD_TOOL');
      type('Job', 'team/app');
      click('Add Parameters');
      type('Parameters key 1', 'VERSION');
      type('Parameters value 1', '${parameters.version}');
      check('Fail on unstable');
    },
    expect: { buildToolId: IDS.BUILD_TOOL, job: 'team/app', parameters: { VERSION: '${parameters.version}' }, waitForCompletion: true, failOnUnstable: true },
  },
  BUILD_HOSTED: {
    fill: async () => {
      type('Build image', 'busybox:1.35');
      await pickResource('Registry', 'IMAGE_REGISTRY');
      type('Image name', 'team/app');
      type('Build command', 'make test\nmake dist');
      type('Memory (MB)', '4096');
      type('CPU', '1.5');
    },
    expect: { buildImage: 'busybox:1.35', registryId: IDS.IMAGE_REGISTRY, imageName: 'team/app', buildCommand: 'make test\nmake dist', memoryMb: 4096, cpu: 1.5, dockerfilePath: 'Dockerfile', tagFormat: '{BUILD_NUMBER}', useTagFormat: true },
  },
  BAKE_MANIFEST: {
    fill: async () => {
      type('Release name', 'web');
      type('Namespace', 'apps');
      choose('Template source', 'Chart repository');
      await pickResource('Chart repository', 'CHART_REPOSITORY');
      type('Chart', 'nginx');
      click('Add Overrides');
      const row = screen.getByRole('group', { name: 'Overrides 1' });
      type('Key', 'image.tag', row);
      type('Value', '1.2.3', row);
      check('Use values file');
      await pickResource('Repository', 'SOURCE_REPOSITORY');
      type('Path', 'values/prod.yaml');
    },
    expect: {
      releaseName: 'web',
      namespace: 'apps',
      template: { source: 'CHART_REPOSITORY', chartRepositoryId: IDS.CHART_REPOSITORY, chart: 'nginx' },
      overrides: [{ key: 'image.tag', value: '1.2.3' }],
      valuesFile: { repositoryId: IDS.SOURCE_REPOSITORY, path: 'values/prod.yaml' },
      replaceBasicType: false,
    },
  },
  DEPLOY: {
    fill: async () => {
      await pickResource('Target', 'DEPLOYMENT_TARGET');
      type('Manifest', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n');
      type('Stable timeout (seconds)', '120');
    },
    expect: { targetId: IDS.DEPLOYMENT_TARGET, manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n', stableTimeoutSeconds: 120 },
  },
  PATCH: {
    fill: async () => {
      await pickResource('Target', 'DEPLOYMENT_TARGET');
      type('Kind', 'Deployment');
      type('Resource name', 'web');
      type('Patch', 'spec:\n  replicas: 2\n');
      choose('Strategy', 'MERGE');
    },
    expect: { targetId: IDS.DEPLOYMENT_TARGET, kind: 'Deployment', name: 'web', patch: 'spec:\n  replicas: 2\n', strategy: 'MERGE' },
  },
  SCALE: {
    fill: async () => {
      await pickResource('Target', 'DEPLOYMENT_TARGET');
      type('Namespace', 'apps');
      type('Kind', 'Deployment');
      type('Resource name', 'web');
      type('Replicas', '3');
    },
    expect: { targetId: IDS.DEPLOYMENT_TARGET, namespace: 'apps', kind: 'Deployment', name: 'web', replicas: 3 },
  },
  ROLLOUT_UNDO: {
    fill: async () => {
      await pickResource('Target', 'DEPLOYMENT_TARGET');
      type('Kind', 'Deployment');
      type('Resource name', 'web');
    },
    expect: { targetId: IDS.DEPLOYMENT_TARGET, kind: 'Deployment', name: 'web', revisionsBack: 1 },
  },
  DELETE: {
    fill: async () => {
      await pickResource('Target', 'DEPLOYMENT_TARGET');
      type('Kind', 'ConfigMap');
      type('Resource name', 'old-config');
      choose('Propagation policy', 'FOREGROUND');
    },
    expect: { targetId: IDS.DEPLOYMENT_TARGET, kind: 'ConfigMap', name: 'old-config', propagationPolicy: 'FOREGROUND' },
  },
  WEBHOOK: {
    fill: () => {
      type('URL', 'https://hooks.example.com/deploy');
      choose('Method', 'PUT');
      click('Add Headers');
      type('Headers key 1', 'X-Token');
      type('Headers value 1', 'abc');
      choose('Body type', 'JSON object');
      type('Body', '{"version": "1.2.3"}');
      click('Add Fail fast status codes');
      type('Fail fast status codes 1', '404');
      type('Request timeout (seconds)', '10');
    },
    expect: { url: 'https://hooks.example.com/deploy', method: 'PUT', headers: { 'X-Token': 'abc' }, body: { version: '1.2.3' }, failFastStatusCodes: [404], timeoutSeconds: 10 },
  },
  JUDGEMENT: {
    fill: () => {
      type('Description', 'Ship it?');
      click('Add Options');
      type('Options 1', 'yes');
      click('Add Options');
      type('Options 2', 'no');
    },
    expect: { description: 'Ship it?', options: ['yes', 'no'] },
  },
  PRECONDITION: {
    others: [judgement],
    fill: () => {
      choose('Judgement ref ID', 'Judge (judge)');
      click('Add Values');
      type('Values 1', 'yes');
      choose('Mode', 'UNMATCHED');
    },
    expect: { judgementRefId: 'judge', values: ['yes'], mode: 'UNMATCHED' },
  },
  RUN_PIPELINE: {
    fill: async () => {
      const select = screen.getByLabelText('Pipeline') as HTMLSelectElement;
      await pickResource('Pipeline', 'PIPELINE');
      expect(Array.from(select.options, (o) => o.text)).not.toContain('this-pipeline');
      click('Add Parameters');
      type('Parameters key 1', 'version');
      type('Parameters value 1', '1.2.3');
    },
    expect: { pipelineId: IDS.PIPELINE, parameters: { version: '1.2.3' }, waitForCompletion: true },
  },
  APPROVAL: {
    fill: () => {
      type('Message', 'Please approve the release');
      check('Use approvers');
      choose('Role', 'APPROVAL_ADMIN');
      click('Add Subjects');
      type('Subjects 1', 'alice');
    },
    expect: { message: 'Please approve the release', approvers: { role: 'APPROVAL_ADMIN', subjects: ['alice'] } },
  },
};

describe.each([
  ['as the server sends them (x-resource)', withResources],
  ['without x-resource (property-name fallback)', withoutResources],
])('stage config forms, schemas %s', (_, types) => {
  it('cover every stage type', () => {
    expect(Object.keys(FILLS).sort()).toEqual(types.map((t) => t.type).sort());
  });

  it.each(types.map((t) => [t.type, t] as const))('%s: renders, and its input becomes a config the schema accepts', async (_t, info) => {
    const fill = FILLS[info.type];
    renderInProject(<Harness info={info} others={fill.others ?? []} />);
    await screen.findByTestId('config');
    // Every property has a labelled control (const discriminators excepted).
    for (const [key, prop] of Object.entries(info.configSchema.properties ?? {})) if (prop.const === undefined) expect(document.querySelector(`[id^="stage-${info.type.toLowerCase().replace(/_/g, '-')}-config-${key}"]`), key).not.toBeNull();
    await fill.fill();
    const out = config();
    expect(out).toMatchObject(fill.expect);
    const result = accepted(info.configSchema, out);
    expect(result.errors).toBe('No errors');
    expect(result.ok).toBe(true);
  });
});

describe('stage config forms: details', () => {
  const info = (t: string) => withResources.find((x) => x.type === t)!;

  it('starts from the defaults and leaves empty optional fields out', async () => {
    renderInProject(<Harness info={info('BUILD_HOSTED')} others={[]} />);
    await screen.findByTestId('config');
    expect(config()).toEqual({ cpu: 1, memoryMb: 2048, timeLimitMinutes: 30, dockerfilePath: 'Dockerfile', contextPath: '.', useTagFormat: true, tagFormat: '{BUILD_NUMBER}' });
    type('Branch', 'main');
    expect(config().branch).toBe('main');
    type('Branch', '');
    expect('branch' in config()).toBe(false);
    type('CPU', '');
    expect('cpu' in config()).toBe(false);
  });

  it('an unfilled form is rejected by the schema (required fields are marked)', async () => {
    renderInProject(<Harness info={info('SCALE')} others={[]} />);
    await screen.findByTestId('config');
    expect(accepted(info('SCALE').configSchema, config()).ok).toBe(false);
    expect(screen.getByLabelText('Replicas').getAttribute('aria-required')).toBe('true');
    expect(screen.getByLabelText('Namespace').getAttribute('aria-required')).toBeNull();
  });

  it('renames config fields that would clash with the stage settings', async () => {
    renderInProject(<Harness info={info('WEBHOOK')} others={[]} />);
    await screen.findByTestId('config');
    expect(screen.getByLabelText('Request timeout (seconds)')).toBeTruthy();
    expect(screen.queryByLabelText('Timeout (seconds)')).toBeNull();
  });

  it('removes array rows and record entries', async () => {
    renderInProject(<Harness info={info('WEBHOOK')} others={[]} />);
    await screen.findByTestId('config');
    click('Add Headers');
    type('Headers key 1', 'A');
    type('Headers value 1', '1');
    click('Add Headers');
    type('Headers key 2', 'B');
    type('Headers value 2', '2');
    expect(config().headers).toEqual({ A: '1', B: '2' });
    click('Remove Headers 1');
    expect(config().headers).toEqual({ B: '2' });
    click('Add Fail fast status codes');
    type('Fail fast status codes 1', '500');
    expect(config().failFastStatusCodes).toEqual([500]);
    click('Remove Fail fast status codes 1');
    expect(config().failFastStatusCodes).toEqual([]);
  });

  it('offers the enum values in a select, the default chosen', async () => {
    renderInProject(<Harness info={info('DELETE')} others={[]} />);
    await screen.findByTestId('config');
    const select = screen.getByLabelText('Propagation policy') as HTMLSelectElement;
    expect(Array.from(select.options, (o) => o.text)).toEqual(['FOREGROUND', 'BACKGROUND', 'ORPHAN']);
    expect(select.selectedOptions[0].text).toBe('BACKGROUND');
    expect(config().propagationPolicy).toBe('BACKGROUND');
  });

  it('switches union variants', async () => {
    renderInProject(<Harness info={info('BAKE_MANIFEST')} others={[]} />);
    await screen.findByTestId('config');
    expect(config().template).toEqual({ source: 'GIT_FILE' });
    type('Path', 'charts/web');
    choose('Template source', 'Chart repository');
    expect(config().template).toEqual({ source: 'CHART_REPOSITORY' });
    expect(screen.queryByLabelText('Path')).toBeNull();
    expect(screen.getByLabelText('Chart')).toBeTruthy();
  });
});
