import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import fixture from '../__fixtures__/stage-types.json';
import { newStage, type DraftStage, type StageTypeInfo } from '../draft';
import { renderInProject } from '../test/harness';
import { AddStageDialog } from './AddStageDialog';
import { StageForm } from './StageForm';

afterEach(cleanup);
const types = fixture as unknown as StageTypeInfo[];
const info = (t: string) => types.find((x) => x.type === t)!;

function Harness({ errors, onRemove = () => undefined }: { errors?: Record<string, string>; onRemove?: () => void }) {
  const a = newStage(info('SOURCE_GITHUB'), [], null);
  const b = newStage(info('JUDGEMENT'), [a], null);
  const [stages, setStages] = useState<DraftStage[]>([a, b, newStage(info('WEBHOOK'), [a, b], null)]);
  const stage = stages[2];
  return (
    <>
      <StageForm
        stage={stage}
        stages={stages}
        info={info('WEBHOOK')}
        pipelineId="p"
        errors={errors}
        readOnly={false}
        onChange={(s) => setStages((all) => all.map((x) => (x.refId === s.refId ? s : x)))}
        onRemove={onRemove}
        onClose={() => undefined}
      />
      <output data-testid="stage">{JSON.stringify(stage)}</output>
    </>
  );
}
const stage = () => JSON.parse(screen.getByTestId('stage').textContent!) as DraftStage;

describe('StageForm', () => {
  it('edits the common settings', async () => {
    const onRemove = vi.fn();
    renderInProject(<Harness onRemove={onRemove} />);
    await screen.findByTestId('stage');
    expect((screen.getByLabelText('Type') as HTMLInputElement).readOnly).toBe(true);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Notify' } });
    fireEvent.change(screen.getByLabelText('Failure policy'), { target: { value: 'CONTINUE' } });
    fireEvent.change(screen.getByLabelText('Timeout (seconds)'), { target: { value: '90' } });
    fireEvent.change(screen.getByLabelText('Retry max attempts'), { target: { value: '3' } });
    fireEvent.change(screen.getByLabelText('Retry backoff (seconds)'), { target: { value: '5' } });
    fireEvent.change(screen.getByLabelText('Start condition'), { target: { value: '{"artifacts": ["image"]}' } });
    const deps = screen.getByLabelText('Depends on') as HTMLSelectElement;
    Array.from(deps.options).forEach((o) => (o.selected = true));
    fireEvent.change(deps);
    expect(stage()).toMatchObject({ name: 'Notify', failurePolicy: 'CONTINUE', timeoutSeconds: 90, retryMaxAttempts: 3, retryBackoffSeconds: 5, startCondition: '{"artifacts": ["image"]}', dependsOn: ['source-github', 'judgement'] });
    fireEvent.change(screen.getByLabelText('End condition'), { target: { value: '{nope' } });
    expect(screen.getByLabelText('End condition').getAttribute('aria-invalid')).toBe('true');
    fireEvent.click(screen.getByRole('button', { name: 'Remove stage' }));
    expect(onRemove).toHaveBeenCalled();
  });

  it("shows the server's problems under the fields they name", async () => {
    renderInProject(<Harness errors={{ name: 'must not be empty', 'config.url': 'must be an http(s):// URL (or an expression)', 'dependsOn.0': 'names no stage ("x")', 'startCondition.artifacts': 'must list at least one artifact', timeoutSeconds: 'must be at least 1' }} />);
    await screen.findByTestId('stage');
    for (const [label, text] of [
      ['Name', 'must not be empty'],
      ['URL', 'must be an http(s):// URL (or an expression)'],
      ['Depends on', 'names no stage'],
      ['Start condition', 'artifacts must list at least one artifact'],
      ['Timeout (seconds)', 'must be at least 1'],
    ]) {
      const input = screen.getByLabelText(label);
      expect(input.getAttribute('aria-invalid'), label).toBe('true');
      const described = (input.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent ?? '');
      expect(described.join(' '), label).toContain(text);
    }
  });
});

describe('AddStageDialog', () => {
  it('offers every type under its group, each a button named by its label', () => {
    const onPick = vi.fn();
    renderInProject(<AddStageDialog types={types} onPick={onPick} onClose={() => undefined} />);
    const dialog = screen.getByRole('dialog', { name: 'Add stage' });
    for (const [title, group] of [['Source', 'SOURCE'], ['Build', 'BUILD'], ['Deployment', 'DEPLOYMENT'], ['Feature', 'FEATURE']]) {
      const section = within(dialog).getByRole('region', { name: title });
      expect(within(section).getAllByRole('button').map((b) => b.textContent)).toEqual(types.filter((t) => t.group === group).map((t) => t.label));
    }
    fireEvent.click(within(dialog).getByRole('button', { name: 'Webhook' }));
    expect(onPick).toHaveBeenCalledWith(info('WEBHOOK'));
  });
});
