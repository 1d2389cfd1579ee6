import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BuildFailure } from './executor';

/**
 * helm's environment: its cache, config and data inside the build's workspace, so builds never
 * share repositories, credentials or downloaded charts; nothing else of the service's environment.
 */
export function helmEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    LC_ALL: 'C',
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    // No cluster is ever contacted; an empty kubeconfig keeps helm from finding one.
    KUBECONFIG: join(home, 'kubeconfig'),
  };
}

/**
 * A value for `--set` / `--set-string`: helm splits on unescaped commas and reads a backslash as an
 * escape, so both are escaped to pass the value through as written.
 */
export function escapeSetValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
}

/** `helm <args>` for the build log, each argument quoted as a shell would need. */
export function commandLine(args: string[]): string {
  const quote = (a: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['helm', ...args.map(quote)].join(' ');
}

/** helm's own message from its stderr: from the line starting "Error:" on, else the last lines. */
export function helmMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Use --debug flag/i.test(l));
  const at = lines.findIndex((l) => /^Error:/.test(l));
  const picked = at >= 0 ? lines.slice(at) : lines.slice(-3);
  const text = picked.join(' ').replace(/^Error:\s*/, '');
  if (!text) return '(helm printed no message)';
  return text.length > 1500 ? `${text.slice(0, 1500)}...` : text;
}


export interface ChartMeta {
  name: string;
  version?: string;
  dependencies: number;
}

/** Name, version and number of dependencies from a chart's Chart.yaml; undefined without one. */
export async function readChartMeta(dir: string): Promise<ChartMeta | undefined> {
  const file = join(dir, 'Chart.yaml');
  if (!existsSync(file)) return undefined;
  let doc: { name?: unknown; version?: unknown; dependencies?: unknown };
  try {
    doc = (parseYaml(await readFile(file, 'utf8')) ?? {}) as typeof doc;
  } catch (err) {
    throw new BuildFailure(`Chart.yaml of the chart is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return {
    name: typeof doc.name === 'string' ? doc.name : '',
    version: doc.version === undefined || doc.version === null ? undefined : String(doc.version),
    dependencies: Array.isArray(doc.dependencies) ? doc.dependencies.length : 0,
  };
}
