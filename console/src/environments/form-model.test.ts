import { CombinedError } from 'urql';
import { describe, expect, it } from 'vitest';
import {
  buildCreateInput,
  buildUpdateInput,
  conflictPipelines,
  formFieldErrors,
  humanKey,
  initialValues,
  isDirty,
  probeFacts,
  unclaimedError,
  type FieldSpec,
} from './form-model';

interface Repo {
  name: string;
  provider: string;
  url: string;
  defaultBranch: string;
  hasCredentials: boolean;
}

const fields: FieldSpec<Repo>[] = [
  { key: 'name', label: 'Name', type: 'text', required: true },
  { key: 'provider', label: 'Provider', type: 'select', required: true, options: [{ value: 'GITHUB', label: 'GitHub' }, { value: 'GITLAB', label: 'GitLab' }] },
  { key: 'url', label: 'URL', type: 'text', required: true },
  { key: 'defaultBranch', label: 'Default branch', type: 'text' },
  { key: 'insecure', label: 'Insecure', type: 'checkbox' },
  { key: 'token', label: 'Token', type: 'secret', isSet: (r) => r.hasCredentials },
];
const row: Repo = { name: 'app', provider: 'GITHUB', url: 'https://github.com/acme/app.git', defaultBranch: 'main', hasCredentials: true };

const gqlError = (message: string, extensions: Record<string, unknown>) => new CombinedError({ graphQLErrors: [{ message, extensions }] });

describe('initialValues', () => {
  it('starts a create form at the defaults and an edit form at the resource, never with a secret', () => {
    expect(initialValues(fields)).toEqual({ name: '', provider: 'GITHUB', url: '', defaultBranch: '', insecure: false, token: '' });
    expect(initialValues(fields, row)).toEqual({ name: 'app', provider: 'GITHUB', url: row.url, defaultBranch: 'main', insecure: false, token: '' });
  });
});

describe('buildCreateInput', () => {
  it('leaves out blank text and unchecked boxes so the server defaults apply', () => {
    const v = { ...initialValues(fields), name: 'app', url: 'https://x/y.git', token: 's3cret' };
    expect(buildCreateInput(fields, v)).toEqual({ name: 'app', provider: 'GITHUB', url: 'https://x/y.git', token: 's3cret' });
    expect(buildCreateInput(fields, { ...v, insecure: true, token: '' })).toEqual({ name: 'app', provider: 'GITHUB', url: 'https://x/y.git', insecure: true });
  });
});

describe('buildUpdateInput', () => {
  it('sends only what changed and omits an untouched secret', () => {
    const v = { ...initialValues(fields, row), url: 'https://gitlab.com/acme/app.git' };
    expect(buildUpdateInput(fields, row, v, {})).toEqual({ url: 'https://gitlab.com/acme/app.git' });
    // a value typed while the secret is not being replaced is not sent either
    expect(buildUpdateInput(fields, row, { ...v, token: 'typed' }, { token: 'keep' })).toEqual({ url: 'https://gitlab.com/acme/app.git' });
  });
  it('sends a replaced secret, null for a cleared one, nothing for an empty replacement', () => {
    const v = initialValues(fields, row);
    expect(buildUpdateInput(fields, row, { ...v, token: 'new' }, { token: 'replace' })).toEqual({ token: 'new' });
    expect(buildUpdateInput(fields, row, v, { token: 'clear' })).toEqual({ token: null });
    expect(buildUpdateInput(fields, row, v, { token: 'replace' })).toEqual({});
  });
  it('clears an emptied optional text with null, sends an emptied required one for the server to refuse', () => {
    const v = { ...initialValues(fields, row), defaultBranch: ' ', url: '' };
    expect(buildUpdateInput(fields, row, v, {})).toEqual({ defaultBranch: null, url: '' });
  });
  it('never clears a secret that cannot be cleared on its own', () => {
    const kube: FieldSpec<Repo>[] = [{ key: 'kubeconfig', label: 'Kubeconfig', type: 'secret-textarea', noClear: true }];
    expect(buildUpdateInput(kube, row, { kubeconfig: '' }, { kubeconfig: 'clear' })).toEqual({});
  });
});

describe('isDirty', () => {
  it('notices edits and secret actions', () => {
    const start = initialValues(fields, row);
    expect(isDirty(fields, start, start, {})).toBe(false);
    expect(isDirty(fields, start, { ...start, name: 'x' }, {})).toBe(true);
    expect(isDirty(fields, start, start, { token: 'clear' })).toBe(true);
  });
});

describe('errors', () => {
  const bad = gqlError('input.url must be a URL; input.foo is odd', {
    code: 'BAD_USER_INPUT',
    problems: [
      { field: 'input.url', message: 'must be a URL' },
      { field: 'input.foo', message: 'is odd' },
    ],
  });
  it('puts problems and a name conflict at their fields', () => {
    expect(formFieldErrors(bad)).toEqual({ url: 'must be a URL', foo: 'is odd' });
    const taken = gqlError('a source repository named "app" already exists', { code: 'CONFLICT', field: 'input.name' });
    expect(formFieldErrors(taken)).toEqual({ name: 'a source repository named "app" already exists' });
    expect(unclaimedError(taken, ['name'])).toBeNull();
  });
  it('leaves what no field claims for the form', () => {
    expect(unclaimedError(bad, ['name', 'url'])).toBe('input.foo: is odd');
    expect(unclaimedError(bad, ['url', 'foo'])).toBeNull();
    expect(unclaimedError(gqlError('nope', { code: 'FORBIDDEN' }), ['url'])).toBe('nope');
    expect(unclaimedError(null, [])).toBeNull();
  });
  it('reads the pipelines of a refused delete', () => {
    const refused = gqlError('used by 1 pipeline(s)', { code: 'CONFLICT', pipelines: [{ id: 'p1', name: 'deploy' }] });
    expect(conflictPipelines(refused)).toEqual([{ id: 'p1', name: 'deploy' }]);
    expect(conflictPipelines(gqlError('taken', { code: 'CONFLICT', field: 'input.name' }))).toBeNull();
    expect(conflictPipelines(bad)).toBeNull();
  });
});

describe('probeFacts', () => {
  it('labels what a probe found, lists as lists, leaving nulls out', () => {
    expect(probeFacts({ head: 'abc123', branches: ['main', 'dev'], branchCount: 2, apiVersion: null, crumb: true })).toEqual([
      { label: 'Head', value: 'abc123' },
      { label: 'Branches', value: ['main', 'dev'] },
      { label: 'Branch count', value: '2' },
      { label: 'Crumb', value: 'yes' },
    ]);
    expect(probeFacts(null)).toEqual([]);
    expect(probeFacts(['x'])).toEqual([]);
  });
  it('humanises keys', () => {
    expect(humanKey('apiVersion')).toBe('API version');
    expect(humanKey('defaultNamespaceFound')).toBe('Default namespace found');
    expect(humanKey('reason')).toBe('Reason');
  });
});
