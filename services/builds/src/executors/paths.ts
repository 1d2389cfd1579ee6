import { existsSync, realpathSync } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
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

/**
 * Refuses a directory holding a symbolic link that leads out of `root` (the checkout): helm follows
 * links when it loads a chart directory, so `.Files.Get` or a template could otherwise read any
 * file of the builds service's host (its environment, its credentials) into the manifest.
 */
export async function refuseLinksOut(root: string, dir: string, what: string): Promise<void> {
  const realRoot = await realpath(root);
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isSymbolicLink()) {
        const target = await realpath(path).catch(() => null); // a dangling link reads nothing
        const r = target === null ? '' : relative(realRoot, target);
        if (r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r)) {
          throw new BuildFailure(`${what}: ${relative(root, path)} is a symbolic link out of the repository (to ${target}): a chart may only hold its own files`);
        }
      } else if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(dir);
}
