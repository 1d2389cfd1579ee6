import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { testEnv } from './test-env';

function git(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('git', args, { env }, (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))),
  );
}

export interface TestRepository {
  /** Its smart-HTTP URL on the test environment's git server (token auth, GIT_TOKEN). */
  url: string;
  /** Removes the repository from the server. */
  remove(): void;
}

/** A repository of a suite's own on the test environment's git server, holding `files` (and `symlinks`: path -> target) on `main`. */
export async function createGitRepository(name: string, files: Record<string, string>, opts: { symlinks?: Record<string, string> } = {}): Promise<TestRepository> {
  const bare = join(testEnv('GIT_ROOT'), `${name}.git`);
  const work = mkdtempSync(join(tmpdir(), 'pw-test-repo-'));
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: work, GIT_TERMINAL_PROMPT: '0' };
  try {
    await git(['init', '--quiet', '--bare', '-b', 'main', bare], env);
    const tree = join(work, 'tree');
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(tree, path)), { recursive: true });
      writeFileSync(join(tree, path), text);
    }
    for (const [path, target] of Object.entries(opts.symlinks ?? {})) {
      mkdirSync(dirname(join(tree, path)), { recursive: true });
      symlinkSync(target, join(tree, path));
    }
    await git(['init', '--quiet', '-b', 'main', tree], env);
    await git(['-C', tree, 'add', '-A'], env);
    await git(['-C', tree, '-c', 'user.name=pipewright-tests', '-c', 'user.email=tests@pipewright.invalid', 'commit', '--quiet', '-m', 'fixture'], env);
    const url = `${testEnv('GIT_URL')}/${name}.git`;
    await git(['-C', tree, '-c', `http.extraHeader=Authorization: Bearer ${testEnv('GIT_TOKEN')}`, 'push', '--quiet', url, 'main'], env);
    return { url, remove: () => rmSync(bare, { recursive: true, force: true }) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
