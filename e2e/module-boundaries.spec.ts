import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@pipewright/testing';

/** Lints `code` as if it were the file at `path`, with the repository's ESLint config. */
function lintAs(path: string, code: string) {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--stdin', '--stdin-filename', path, '--format', 'json'], {
    cwd: REPO_ROOT,
    input: code,
    env: { ...process.env, NX_DAEMON: 'false' },
    encoding: 'utf8',
  });
  const [report] = JSON.parse(run.stdout) as { messages: { ruleId: string; message: string }[] }[];
  return report.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries');
}

describe('module boundaries (lint)', () => {
  it('refuses a service importing another service by package name', () => {
    const problems = lintAs('services/pipelines/src/probe.ts', "import { configSchema } from '@pipewright/environments';\nexport const x = configSchema;\n");
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(/type:lib/);
  });

  it('refuses a service reaching into another service by relative path', () => {
    const problems = lintAs('services/pipelines/src/probe.ts', "import { configSchema } from '../../environments/src/config';\nexport const x = configSchema;\n");
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(/relative or absolute path/);
  });

  it('lets a service import a lib', () => {
    expect(lintAs('services/pipelines/src/probe.ts', "import { subjects } from '@pipewright/contracts';\nexport const x = subjects;\n")).toEqual([]);
  });
});
