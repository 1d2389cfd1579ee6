import { existsSync, realpathSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
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
 * Refuses chart directories holding a symbolic link that leads out of `root` (the checkout), or
 * nowhere: helm follows links when it loads a chart directory, so `.Files.Get` or a template could
 * otherwise read any file of the builds service's host (its environment, its credentials) into the
 * manifest. What helm would load is walked: `dirs`, and every directory a link inside them leads
 * to (inside `root`), and on from there; a link that resolves nowhere is refused too, as something
 * could appear there.
 */
export async function refuseLinksOut(root: string, dirs: string[], what: string): Promise<void> {
  const realRoot = await realpath(root);
  const seen = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    const real = await realpath(d);
    if (seen.has(real)) return;
    seen.add(real);
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isSymbolicLink()) {
        const target = await realpath(path).catch(() => null);
        const r = target === null ? null : relative(realRoot, target);
        if (r === null || r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r)) {
          throw new BuildFailure(`${what}: ${relative(root, path)} is a symbolic link ${target === null ? 'that leads nowhere' : `out of the repository (to ${target})`}: a chart may only hold its own files`);
        }
        if ((await stat(target!)).isDirectory()) await walk(target!);
      } else if (entry.isDirectory()) await walk(path);
    }
  };
  for (const d of dirs) await walk(d);
}
