import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandLine, escapeSetValue, helmMessage } from './bake-helm';
import { inside } from './paths';

describe('escapeSetValue', () => {
  it('escapes commas and backslashes, nothing else', () => {
    expect(escapeSetValue('a,b')).toBe('a\\,b');
    expect(escapeSetValue('C:\\dir')).toBe('C:\\\\dir');
    expect(escapeSetValue('x=y.z [0] {a}')).toBe('x=y.z [0] {a}');
  });
});

describe('commandLine', () => {
  it('quotes what a shell would need quoted', () => {
    expect(commandLine(['template', 'web', './chart', '--set-string', "msg=it's here"])).toBe(`helm template web ./chart --set-string 'msg=it'\\''s here'`);
  });
});

describe('helmMessage', () => {
  it('keeps the error from "Error:" on and drops the --debug hint', () => {
    const stderr = 'WARNING: something\nError: c/templates/a.yaml:1:46\n  executing "c/templates/a.yaml" at <.Values.image.tag>:\n    nil pointer\n\nUse --debug flag to render out invalid YAML\n';
    expect(helmMessage(stderr)).toBe('c/templates/a.yaml:1:46 executing "c/templates/a.yaml" at <.Values.image.tag>: nil pointer');
  });
  it('falls back to the last lines', () => {
    expect(helmMessage('a\nb\nc\nd\n')).toBe('b c d');
    expect(helmMessage('')).toBe('(helm printed no message)');
  });
});

describe('inside', () => {
  const root = mkdtempSync(join(tmpdir(), 'pw-inside-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'repo', 'chart'), { recursive: true });
  symlinkSync(tmpdir(), join(root, 'repo', 'escape'));
  const repo = join(root, 'repo');

  it('accepts paths in the checkout, with or without a leading slash', () => {
    expect(inside(repo, 'chart', 'template.path')).toBe(join(repo, 'chart'));
    expect(inside(repo, '/chart', 'template.path')).toBe(join(repo, 'chart'));
    expect(inside(repo, '.', 'template.path')).toBe(repo);
    expect(inside(repo, 'missing/file.yaml', 'valuesFile.path')).toBe(join(repo, 'missing', 'file.yaml'));
  });
  it('refuses paths out of it, also through a symbolic link', () => {
    expect(() => inside(repo, '../x', 'template.path')).toThrow('template.path must be a path inside the repository (got "../x")');
    expect(() => inside(repo, 'escape', 'template.path')).toThrow('template.path must be a path inside the repository');
  });
});
