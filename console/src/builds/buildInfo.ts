import type { BuildStatus } from '../gql/graphql';

/** Stage types that make builds (the builds service's BUILD_STAGE_TYPES): what the Stage filter offers. */
export const BUILD_STAGE_TYPES = ['SOURCE_GITHUB', 'SOURCE_GITLAB', 'BUILD_JENKINS', 'BUILD_HOSTED', 'BAKE_MANIFEST'] as const;

const TYPE_LABELS: Record<string, string> = {
  SOURCE_GITHUB: 'Source (GitHub)',
  SOURCE_GITLAB: 'Source (GitLab)',
  BUILD_JENKINS: 'Build (Jenkins)',
  BUILD_HOSTED: 'Build (hosted)',
  BAKE_MANIFEST: 'Bake (manifest)',
};

export const isBuildStageType = (type: string) => (BUILD_STAGE_TYPES as readonly string[]).includes(type);
export const stageTypeLabel = (type: string) => TYPE_LABELS[type] ?? type;

/** Still going: the log may grow and the status change. */
export const isActive = (status: BuildStatus) => status === 'QUEUED' || status === 'RUNNING';

/** An image reference split into repository and tag: `127.0.0.1:5000/ns/app:7` → `127.0.0.1:5000/ns/app` + `7`. */
export function splitImage(reference: string): { repository: string; tag: string | null } {
  const at = reference.indexOf('@');
  const ref = at >= 0 ? reference.slice(0, at) : reference;
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repository: ref, tag: null };
}

/** What a build made, for the list's "Image / tag" column and the build page. */
export interface Product {
  kind: 'image' | 'commit' | 'chart' | 'jenkins';
  /** The image repository, branch, chart or Jenkins job. */
  name: string | null;
  /** The image tag, short commit, chart version or release; links to the log (not for Jenkins). */
  tag: string | null;
  /** The Jenkins build number and its URL. */
  external?: { label: string; url: string | null };
}

type Outputs = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
/** Only http(s) URLs become links (a build's outputs come from an external tool). */
const httpUrl = (v: unknown): string | undefined => {
  const s = str(v);
  return s && /^https?:\/\//i.test(s) ? s : undefined;
};

export function buildProduct(b: { stageType: string; image: string | null; outputs: unknown }): Product | null {
  const o: Outputs = b.outputs && typeof b.outputs === 'object' ? (b.outputs as Outputs) : {};
  switch (b.stageType) {
    case 'BUILD_HOSTED': {
      const reference = b.image ?? str(o.reference);
      if (!reference) return null;
      const { repository, tag } = splitImage(reference);
      return { kind: 'image', name: repository, tag: str(o.tag) ?? tag };
    }
    case 'SOURCE_GITHUB':
    case 'SOURCE_GITLAB': {
      const commit = str(o.commit);
      if (!commit && !str(o.branch)) return null;
      return { kind: 'commit', name: str(o.branch), tag: commit && commit.slice(0, 12) };
    }
    case 'BAKE_MANIFEST': {
      if (!str(o.chart)) return null;
      return { kind: 'chart', name: str(o.chart), tag: str(o.chartVersion) ?? str(o.release) };
    }
    case 'BUILD_JENKINS': {
      const job = str(o.job);
      if (!job) return null;
      const n = typeof o.buildNumber === 'number' ? o.buildNumber : null;
      return { kind: 'jenkins', name: job, tag: null, external: n != null ? { label: `Jenkins #${n}`, url: httpUrl(o.buildUrl) ?? null } : undefined };
    }
    default:
      return null;
  }
}

/** 0.4 s, 12 s, 3 m 07 s, 1 h 02 m. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 10) return `${Math.round(seconds * 10) / 10} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} m`;
}

/** A timestamp as the viewer's local date and time (the ISO value goes in a title). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** URLs of the console this area links to. */
export const urls = {
  builds: (slug: string, filter: { pipeline?: string | null; stage?: string | null } = {}) => {
    const q = new URLSearchParams();
    if (filter.pipeline) q.set('pipeline', filter.pipeline);
    if (filter.pipeline && filter.stage) q.set('stage', filter.stage);
    const s = q.toString();
    return `/p/${slug}/builds${s ? `?${s}` : ''}`;
  },
  build: (slug: string, buildId: string) => `/p/${slug}/builds/${buildId}`,
  pipeline: (slug: string, pipelineId: string) => `/p/${slug}/pipelines/${pipelineId}`,
  editStage: (slug: string, pipelineId: string, refId: string) => `/p/${slug}/pipelines/${pipelineId}?stage=${encodeURIComponent(refId)}`,
  run: (slug: string, runId: string) => `/p/${slug}/runs/${runId}`,
};
