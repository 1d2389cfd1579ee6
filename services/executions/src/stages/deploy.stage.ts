import { BUILD_NUMBER_PLACEHOLDER, parseImageReference, parseManifests, substituteImages } from '@pipewright/kube';
import { connect, guarded, LEFT_AS_IS, startWaiting, pollRollout } from './kubernetes';
import { imageArtifacts, manifestText, type ManifestConfig } from './manifest-source';
import { running, type StageContext, type StageType } from './stage-type';

interface DeployConfig extends ManifestConfig {
  targetId: string;
  namespace?: string;
  stableTimeoutSeconds?: number;
}

/**
 * Applies manifests with server-side apply (field manager `pipewright`), after filling in
 * `{BUILD_NUMBER}` image tags from the registry and images built earlier in the run, then waits
 * until every workload is stable. Outputs each resource applied and the revision it reached.
 */
export const deployStage: StageType = {
  type: 'DEPLOY',
  cancelNote: LEFT_AS_IS,
  start: (ctx) =>
    guarded(async () => {
      const c = ctx.config as unknown as DeployConfig;
      const { cluster } = await connect(ctx, c.targetId);
      const { text, source } = await manifestText(ctx, c);
      const parsed = parseManifests(text);
      const registries = await registriesFor(ctx, parsed);
      const { docs, replaced } = await substituteImages(parsed, {
        images: imageArtifacts(ctx.run.artifacts),
        credentials: async (host) => registries.get(host)?.credentials ?? null,
        insecure: (host) => registries.get(host)?.insecure ?? false,
      });
      const applied = await cluster.apply(docs, c.namespace || undefined);
      const timeoutSeconds = c.stableTimeoutSeconds ?? 600;
      return running(250, startWaiting(applied, timeoutSeconds, { manifestSource: source, images: replaced }));
    }),
  poll: pollRollout,
};

interface RegistryAccess {
  credentials: { username: string; password: string } | null;
  insecure: boolean;
}

/**
 * For each registry host whose images need a tag lookup (`{BUILD_NUMBER}`), the image registry of
 * the environment settings with that host, if any: its credentials, and whether it speaks plain HTTP.
 */
async function registriesFor(ctx: StageContext, docs: Record<string, unknown>[]): Promise<Map<string, RegistryAccess>> {
  const hosts = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'image' && typeof v === 'string' && v.includes(BUILD_NUMBER_PLACEHOLDER)) hosts.add(parseImageReference(v).registry);
        else walk(v);
      }
    }
  };
  docs.forEach(walk);
  const found = new Map<string, RegistryAccess>();
  for (const host of hosts) {
    try {
      const { registry } = await ctx.request('rpc.environments.image-registry.for-host', { host }, { timeoutMs: 5000 });
      if (registry) found.set(host, { insecure: registry.insecure, credentials: registry.username && registry.password ? { username: registry.username, password: registry.password } : null });
    } catch {
      // No answer from the environments service: the tag lookup goes on anonymously, and says so if refused.
    }
  }
  return found;
}
