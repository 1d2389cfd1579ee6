import { outboundFetch, OutboundRefusedError, type OutboundPolicy, type OutboundResponse } from '@pipewright/platform';
import { createHash } from 'node:crypto';
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import { BuildFailure } from './executor';

/** index.yaml may be large (every version of every chart); an archive is a chart, not a data set. */
const MAX_INDEX_BYTES = 32 * 1024 * 1024;
const MAX_CHART_BYTES = 20 * 1024 * 1024;

export interface ChartRepositoryAccess {
  url: string;
  username?: string | null;
  password?: string | null;
}

export interface IndexEntry {
  name: string;
  version: string;
  urls: string[];
  digest?: string;
}

export interface FetchedChart {
  name: string;
  version: string;
  /** Where the archive came from (after the index's relative URL was resolved). */
  url: string;
  archive: Buffer;
  /** Whether the index gave a digest and the archive matched it. */
  verified: boolean;
}

/**
 * The version helm would pick: with no `wanted`, the highest stable one; else the exact version, or
 * the highest that a constraint (`^1.2`, `~0.3`, `>= 1.0, < 2.0`) allows. Undefined when none does.
 */
export function pickChartVersion(entries: IndexEntry[], wanted: string | undefined): IndexEntry | undefined {
  const valid = entries.filter((e) => semver.valid(e.version, { loose: true }));
  const sorted = [...valid].sort((a, b) => semver.rcompare(a.version, b.version, { loose: true }));
  // No version: the highest stable one, as helm's "*" (none when there are only prereleases).
  if (!wanted) return sorted.find((e) => !semver.prerelease(e.version, { loose: true }));
  const exact = entries.find((e) => e.version === wanted || e.version === wanted.replace(/^v/, ''));
  if (exact) return exact;
  // Helm's constraints separate AND-ed terms with commas; npm's with spaces.
  let range: semver.Range;
  try {
    range = new semver.Range(wanted.replace(/,/g, ' '), { loose: true });
  } catch {
    return undefined;
  }
  // Prereleases only when a version written in the constraint is one itself (as helm: the hyphen
  // range "1.0.0 - 2.0.0" is not; semver's own desugaring of "< 1.0" to "<1.0.0-0" does not count).
  const includePrerelease = /\d+\.\d+\.\d+-[0-9A-Za-z]/.test(wanted);
  return sorted.find((e) => semver.satisfies(e.version, range, { loose: true, includePrerelease }));
}

/** The entries of `chart` in an index.yaml's text; throws a BuildFailure naming what is wrong with it. */
export function indexEntries(text: string, chart: string, what: string): { entries: IndexEntry[]; charts: string[] } {
  let index: unknown;
  try {
    index = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new BuildFailure(`${what}: its index.yaml is not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const all = (index as { entries?: unknown } | null)?.entries;
  if (!all || typeof all !== 'object' || Array.isArray(all)) throw new BuildFailure(`${what}: its index.yaml has no "entries": is the URL a Helm chart repository?`);
  const raw = (all as Record<string, unknown>)[chart];
  const entries = (Array.isArray(raw) ? raw : [])
    .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
    .map((e) => ({
      name: typeof e.name === 'string' ? e.name : chart,
      version: String(e.version ?? ''),
      urls: Array.isArray(e.urls) ? e.urls.filter((u): u is string => typeof u === 'string') : [],
      digest: typeof e.digest === 'string' ? e.digest : undefined,
    }));
  return { entries, charts: Object.keys(all) };
}

/**
 * Fetches a chart from an HTTP(S) chart repository the way helm does (index.yaml, then the archive
 * it names), but through the outbound guard: the index, the archive (wherever the index points)
 * and every redirect of either are checked before any connection. Credentials go only to the
 * repository's own origin. The archive's sha256 is checked against the index's digest.
 */
export async function fetchChart(
  repo: ChartRepositoryAccess,
  chart: string,
  wanted: string | undefined,
  opts: { policy: OutboundPolicy; signal: AbortSignal; what: string; log: (line: string) => void },
): Promise<FetchedChart> {
  const { what } = opts;
  const base = new URL(repo.url.endsWith('/') ? repo.url : `${repo.url}/`);
  const indexUrl = new URL('index.yaml', base);
  const auth: Record<string, string> = repo.username || repo.password ? { authorization: `Basic ${Buffer.from(`${repo.username ?? ''}:${repo.password ?? ''}`).toString('base64')}` } : {};
  const get = async (url: URL, maxBytes: number, label: string): Promise<OutboundResponse> => {
    let res: OutboundResponse;
    try {
      res = await outboundFetch(url.href, { headers: url.origin === base.origin ? auth : {}, signal: opts.signal, maxBytes }, opts.policy);
    } catch (err) {
      if (err instanceof OutboundRefusedError) throw new BuildFailure(`${what}: ${err.message}`);
      if (opts.signal.aborted) throw err;
      const e = err as Error & { cause?: { code?: string; message?: string } };
      throw new BuildFailure(`${what}: cannot reach ${url.origin} for ${label} (${e.cause?.code ?? e.cause?.message ?? e.message})`);
    }
    if (!res.ok) throw new BuildFailure(`${what}: ${label} ${url.href} answered ${res.status} ${res.statusText}`);
    if (res.truncated) throw new BuildFailure(`${what}: ${label} ${url.href} is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB`);
    return res;
  };

  opts.log(`fetching ${indexUrl.href}`);
  const { entries, charts } = indexEntries(await (await get(indexUrl, MAX_INDEX_BYTES, 'the index')).text(), chart, what);
  if (!entries.length) {
    const some = charts.slice(0, 20).join(', ');
    throw new BuildFailure(`${what}: chart "${chart}" not found in the repository (it has ${charts.length ? `${some}${charts.length > 20 ? ', ...' : ''}` : 'no charts'}): fix template.chart`);
  }
  const entry = pickChartVersion(entries, wanted);
  if (!entry) {
    const versions = entries.map((e) => e.version).slice(0, 20).join(', ');
    throw new BuildFailure(`${what}: chart "${chart}" version "${wanted}" not found (the repository has ${versions}${entries.length > 20 ? ', ...' : ''}): fix template.version`);
  }
  if (!entry.urls.length) throw new BuildFailure(`${what}: the index lists chart "${chart}" ${entry.version} without a URL to download it from`);
  const archiveUrl = new URL(entry.urls[0], indexUrl);
  if (archiveUrl.protocol !== 'http:' && archiveUrl.protocol !== 'https:') {
    throw new BuildFailure(`${what}: the index points chart "${chart}" ${entry.version} at ${archiveUrl.protocol} URL ${archiveUrl.href}; only http and https are fetched`);
  }
  const archive = Buffer.from(await (await get(archiveUrl, MAX_CHART_BYTES, 'the chart archive')).arrayBuffer());
  let verified = false;
  if (entry.digest) {
    const actual = createHash('sha256').update(archive).digest('hex');
    if (actual !== entry.digest.toLowerCase().replace(/^sha256:/, '')) {
      throw new BuildFailure(`${what}: the archive from ${archiveUrl.href} has sha256 ${actual}, not the ${entry.digest} the index gives: it was changed after it was indexed`);
    }
    verified = true;
  }
  opts.log(`fetched chart ${entry.name} ${entry.version} from ${archiveUrl.href} (${Math.max(1, Math.round(archive.length / 1024))} KiB${verified ? ', sha256 matches the index' : ', the index gives no digest'})`);
  return { name: entry.name, version: entry.version, url: archiveUrl.href, archive, verified };
}
