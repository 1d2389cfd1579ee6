import { buildUrl, runUrl } from '../format';

export interface OutputLink {
  label: string;
  /** A console route. */
  to?: string;
  /** An outside address (a Jenkins build page). */
  href?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
const num = (v: unknown) => (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? String(v) : null);

/**
 * Links found in a stage's outputs. Build stages' outputs hold the build (`buildId`,
 * `buildNumber`, added by the executions service from the builds service's finish event), hosted
 * builds the image (`reference`, `tag`, `digest`, `artifact`), Jenkins builds `buildUrl`, and
 * RUN_PIPELINE stages `childRunId`.
 */
export function outputLinks(slug: string, outputs: unknown): OutputLink[] {
  if (!isRecord(outputs)) return [];
  const links: OutputLink[] = [];
  const buildId = str(outputs.buildId);
  const number = num(outputs.buildNumber);
  const artifact = isRecord(outputs.artifact) ? outputs.artifact : null;
  const image = str(outputs.reference) ?? str(artifact?.reference);
  if (buildId) {
    links.push({ label: number ? `Build #${number} (log)` : 'Build log', to: buildUrl(slug, buildId) });
    if (image) links.push({ label: `Image ${image}`, to: buildUrl(slug, buildId) });
  } else if (image) links.push({ label: `Image ${image}` });
  const external = str(outputs.buildUrl);
  if (external && /^https?:\/\//.test(external)) links.push({ label: `Jenkins ${str(outputs.job) ?? 'build'}${number ? ` #${number}` : ''}`, href: external });
  const child = str(outputs.childRunId);
  if (child) links.push({ label: `Child run${str(outputs.childStatus) ? ` (${outputs.childStatus as string})` : ''}`, to: runUrl(slug, child) });
  return links;
}
