import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { GraphQLError } from 'graphql';
import { CombinedError } from 'urql';
import { afterEach, describe, expect, it } from 'vitest';
import type { CreatePipelineInput, PipelineEditorFieldsFragment } from '../../gql/graphql';
import fixture from '../__fixtures__/stage-types.json';
import { IDS, renderInProject, resourceName } from '../test/harness';
import { PipelineEditor } from './PipelineEditor';

afterEach(cleanup);

const PIPELINE: PipelineEditorFieldsFragment = {
  id: 'p1',
  projectId: '00000000-0000-4000-8000-000000000001',
  name: 'demo',
  description: null,
  revision: 1,
  latestRevision: 1,
  maxConcurrentRuns: null,
  updatedAt: '2024-01-01T00:00:00Z',
  updatedBy: 'dev',
  parameters: [],
  stages: [],
};

function setup() {
  const saves: { expectedRevision: number; input: CreatePipelineInput }[] = [];
  let reject = true;
  renderInProject(<PipelineEditor />, {
    path: '/p/default/pipelines/p1',
    route: '/p/:project/pipelines/:pipelineId',
    api: {
      queries: {
        PipelineEditor: () => ({ pipeline: PIPELINE }),
        PipelineStageTypes: () => ({ stageTypes: fixture }),
      },
      mutations: {
        PipelineEditorSave: (v) => {
          saves.push(v as (typeof saves)[number]);
          if (reject) {
            reject = false;
            return {
              error: new CombinedError({
                graphQLErrors: [
                  new GraphQLError('stages[3].config.url must be an http(s):// URL (or an expression)', {
                    extensions: { code: 'BAD_USER_INPUT', problems: [{ field: 'stages[3].config.url', message: 'must be an http(s):// URL (or an expression)' }, { field: 'stages[9].name', message: 'unclaimed' }] },
                  }),
                ],
              }),
            };
          }
          const input = (v as { input: CreatePipelineInput }).input;
          return { data: { updatePipeline: { ...PIPELINE, revision: 2, latestRevision: 2, stages: input.stages.map((s) => ({ dependsOn: [], startCondition: null, endCondition: null, failurePolicy: 'FAIL_PIPELINE', timeoutSeconds: null, retry: null, ...s })) } } };
        },
      },
    },
  });
  return saves;
}

async function addStage(label: string) {
  fireEvent.click(screen.getByRole('button', { name: '+Add Stage' }));
  fireEvent.click(within(screen.getByRole('dialog', { name: 'Add stage' })).getByRole('button', { name: label }));
  await screen.findByRole('region', { name: `Stage ${label}` });
}

describe('PipelineEditor', () => {
  it('builds Source → Build → Judgement → Webhook, shows the server problem at its field, and saves', async () => {
    const saves = setup();
    await screen.findByRole('tab', { name: 'Stages' });
    expect(screen.getAllByRole('tab').map((t) => t.textContent)).toEqual(['Stages', 'Parameters', 'Triggers', 'YAML', 'Revisions', 'Settings']);
    await addStage('Source (GitHub)');
    const repo = screen.getByLabelText('Repository') as HTMLSelectElement;
    await waitFor(() => expect(Array.from(repo.options, (o) => o.text)).toContain(resourceName('SOURCE_REPOSITORY')));
    fireEvent.change(repo, { target: { value: IDS.SOURCE_REPOSITORY } });
    await addStage('Build (hosted)');
    fireEvent.change(screen.getByLabelText('Build image'), { target: { value: 'busybox:1.35' } });
    await waitFor(() => expect((screen.getByLabelText('Registry') as HTMLSelectElement).options.length).toBeGreaterThan(1));
    fireEvent.change(screen.getByLabelText('Registry'), { target: { value: IDS.IMAGE_REGISTRY } });
    fireEvent.change(screen.getByLabelText('Image name'), { target: { value: 'team/app' } });
    await addStage('Judgement');
    await addStage('Webhook');
    fireEvent.change(screen.getByLabelText('URL'), { target: { value: 'ftp://x' } });

    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Save' })));
    expect(saves[0].expectedRevision).toBe(1);
    expect(saves[0].input.stages.map((s) => [s.refId, s.type, s.dependsOn])).toEqual([
      ['source-github', 'SOURCE_GITHUB', []],
      ['build-hosted', 'BUILD_HOSTED', ['source-github']],
      ['judgement', 'JUDGEMENT', ['build-hosted']],
      ['webhook', 'WEBHOOK', ['judgement']],
    ]);
    const url = screen.getByLabelText('URL');
    expect(url.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('must be an http(s):// URL (or an expression)')).toBeTruthy();
    expect(screen.getByText('stages.9.name: unclaimed')).toBeTruthy();

    fireEvent.change(url, { target: { value: 'https://hooks.example.com' } });
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Save' })));
    expect(saves).toHaveLength(2);
    await screen.findByText('Revision 2');
    expect(screen.queryByText('must be an http(s):// URL (or an expression)')).toBeNull();
    expect((screen.getByRole('button', { name: 'Save' }) as HTMLButtonElement).disabled).toBe(true);
  });
});
