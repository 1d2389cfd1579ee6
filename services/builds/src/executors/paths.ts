import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { BuildFailure } from './executor';

/**
 * `rel` inside `root`, refusing paths that leave it (`..`, absolute paths, symbolic links out of
 * the checkout). A path that does not exist is returned as is, for the caller to report.
 */
export function inside(root: string, rel: string, field: string): string {
  const target = resolve(root, rel.replace(/^\/+/, ''));
  const escapes = (base: string, p: string) => {
    const r = relative(base, p);
    return r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r);
  };
  if (escapes(root, target) || (existsSync(target) && escapes(realpathSync(root), realpathSync(target)))) {
    throw new BuildFailure(`${field} must be a path inside the repository (got "${rel}")`);
  }
  return target;
}
