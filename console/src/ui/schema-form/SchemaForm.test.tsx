import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { SchemaForm } from './SchemaForm';
import type { JsonObject, JsonSchema } from './schema';
import type { ResourcePickerProps } from './SchemaForm';

afterEach(cleanup);

const schema: JsonSchema = {
  type: 'object',
  required: ['url', 'replicas'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', description: 'Target URL.' },
    replicas: { type: 'integer', minimum: 0 },
    note: { type: 'string', maxLength: 4096 },
    method: { type: 'string', enum: ['GET', 'POST'], default: 'POST' },
    level: { type: 'string', enum: ['LOW', 'HIGH'] },
    enabled: { type: 'boolean', default: false },
    targetId: { type: 'string', format: 'uuid' },
    labels: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
    extra: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    body: { anyOf: [{ type: 'string' }, { type: 'object', additionalProperties: {} }, { type: 'array', items: {} }] },
  },
};

function Harness({ errors, initial = {} }: { errors?: Record<string, string>; initial?: JsonObject }) {
  const [value, setValue] = useState<JsonObject>(initial);
  const picker = (p: ResourcePickerProps) => (
    <select id={p.id} value={p.value ?? ''} onChange={(e) => p.onChange(e.target.value || undefined)} aria-invalid={p.invalid || undefined}>
      <option value="">none</option>
      <option value="11111111-1111-4111-8111-111111111111">{p.kind}</option>
    </select>
  );
  return (
    <>
      <SchemaForm schema={schema} value={value} onChange={setValue} idPrefix="t" errors={errors} renderResourcePicker={picker} />
      <output data-testid="value">{JSON.stringify(value)}</output>
    </>
  );
}
const value = () => JSON.parse(screen.getByTestId('value').textContent!) as JsonObject;

describe('SchemaForm', () => {
  it('labels every control, marks the required ones and shows descriptions as hints', () => {
    render(<Harness />);
    const url = screen.getByLabelText('URL');
    expect(url.getAttribute('aria-required')).toBe('true');
    expect(document.getElementById(url.getAttribute('aria-describedby')!)?.textContent).toBe('Target URL.');
    expect(screen.getByLabelText('Note').tagName).toBe('TEXTAREA');
    expect(screen.getByLabelText('Enabled').getAttribute('type')).toBe('checkbox');
    expect(screen.getByLabelText('Target').tagName).toBe('SELECT');
  });

  it('omits empty optional fields and keeps typed values', () => {
    render(<Harness />);
    fireEvent.change(screen.getByLabelText('Note'), { target: { value: 'hi' } });
    fireEvent.change(screen.getByLabelText('Replicas'), { target: { value: '2' } });
    expect(value()).toEqual({ note: 'hi', replicas: 2 });
    fireEvent.change(screen.getByLabelText('Note'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Replicas'), { target: { value: '' } });
    expect(value()).toEqual({});
  });

  it('selects enum values; an optional enum without default can be unset', () => {
    render(<Harness />);
    const level = screen.getByLabelText('Level') as HTMLSelectElement;
    expect(Array.from(level.options, (o) => o.text)).toEqual(['(not set)', 'LOW', 'HIGH']);
    fireEvent.change(level, { target: { value: '1' } });
    expect(value().level).toBe('HIGH');
    fireEvent.change(level, { target: { value: '' } });
    expect('level' in value()).toBe(false);
  });

  it('adds and removes an optional object', () => {
    render(<Harness />);
    expect(screen.queryByLabelText('Path')).toBeNull();
    fireEvent.click(screen.getByLabelText('Use extra'));
    fireEvent.change(screen.getByLabelText('Path'), { target: { value: 'a/b' } });
    expect(value().extra).toEqual({ path: 'a/b' });
    fireEvent.click(screen.getByLabelText('Use extra'));
    expect('extra' in value()).toBe(false);
  });

  it('keeps half-typed record rows until they have a key', () => {
    render(<Harness />);
    fireEvent.click(screen.getByRole('button', { name: 'Add Labels' }));
    fireEvent.change(screen.getByLabelText('Labels value 1'), { target: { value: 'v' } });
    expect(value().labels).toEqual({});
    expect(screen.getByLabelText('Labels value 1')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Labels key 1'), { target: { value: 'k' } });
    expect(value().labels).toEqual({ k: 'v' });
  });

  it('parses JSON variants and says when the text is not JSON', () => {
    render(<Harness />);
    const body = screen.getByLabelText('Body type') as HTMLSelectElement;
    expect(Array.from(body.options, (o) => o.text)).toEqual(['(none)', 'Text', 'JSON object', 'JSON array']);
    fireEvent.change(body, { target: { value: '0' } });
    expect(value().body).toBe(undefined);
    expect(body.selectedOptions[0].text).toBe('Text');
    fireEvent.change(screen.getByLabelText('Body'), { target: { value: 'plain' } });
    expect(value().body).toBe('plain');
    fireEvent.change(body, { target: { value: '1' } });
    expect(value().body).toEqual({});
    fireEvent.change(screen.getByLabelText('Body'), { target: { value: '{"a": ' } });
    expect(screen.getByRole('alert').textContent).toMatch(/not valid JSON/);
    fireEvent.change(screen.getByLabelText('Body'), { target: { value: '[1]' } });
    expect(screen.getByRole('alert').textContent).toMatch(/must be a JSON object/);
    fireEvent.change(screen.getByLabelText('Body'), { target: { value: '{"a": 1}' } });
    expect(value().body).toEqual({ a: 1 });
  });

  it('shows server problems at the field they name, and the rest at the top', () => {
    render(<Harness initial={{ labels: { k: 'v' } }} errors={{ replicas: 'must be at least 0', 'labels.k': 'is bad', '': 'has unknown field(s) foo', 'nowhere.x': 'lost?' }} />);
    const replicas = screen.getByLabelText('Replicas');
    expect(replicas.getAttribute('aria-invalid')).toBe('true');
    expect(replicas.getAttribute('aria-describedby')).toContain('t-replicas-error');
    expect(document.getElementById('t-replicas-error')?.textContent).toBe('must be at least 0');
    expect(screen.getByLabelText('Labels value 1').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('is bad')).toBeTruthy();
    expect(screen.getByText('has unknown field(s) foo')).toBeTruthy();
    expect(screen.getByText('nowhere.x: lost?')).toBeTruthy();
  });
});
