import { parseManifests, substituteImages } from '@pipewright/kube';
import { QueryError } from '@pipewright/messaging';
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
      const { docs, replaced } = await substituteImages(parsed, { images: imageArtifacts(ctx.run.artifacts), credentials: (host) => registryCredentials(ctx, host) });
      const applied = await cluster.apply(docs, c.namespace || undefined);
      const timeoutSeconds = c.stableTimeoutSeconds ?? 600;
      return running(250, startWaiting(applied, timeoutSeconds, { manifestSource: source, images: replaced }));
    }),
  poll: pollRollout,
};

/** Credentials of the image registry (environment settings) whose URL names this host; none when no registry does. */
async function registryCredentials(ctx: StageContext, host: string): Promise<{ username: string; password: string } | null> {
  try {
    const { registry } = await ctx.request('rpc.environments.image-registry.for-host', { host }, { timeoutMs: 5000 });
    return registry?.username && registry.password ? { username: registry.username, password: registry.password } : null;
  } catch (err) {
    if (err instanceof QueryError) return null;
    throw err;
  }
}
