import { parseManifests, substituteImages } from '@pipewright/kube';
import { connect, DEFAULT_STABLE_TIMEOUT_SECONDS, guarded, LEFT_AS_IS, pollRollout, startWaiting } from './kubernetes';
import { imageArtifacts, manifestText } from './manifest-source';
import { running, type StageContext, type StageTypeOf } from './stage-type';


/**
 * Applies manifests with server-side apply (field manager `pipewright`), after filling in
 * `{BUILD_NUMBER}` image tags from the registry and images built earlier in the run, then waits
 * until every workload is stable. Outputs each resource applied and the revision it reached.
 */
export const deployStage: StageTypeOf<'DEPLOY'> = {
  type: 'DEPLOY',
  cancel: async () => LEFT_AS_IS,
  start: (ctx) =>
    guarded(async () => {
      const c = ctx.config;
      const { cluster } = await connect(ctx, c.targetId);
      const { text, source } = await manifestText(ctx, c);
      const parsed = parseManifests(text);
      const registry = registryLookup(ctx);
      const { docs, replaced } = await substituteImages(parsed, {
        images: imageArtifacts(ctx.run.artifacts),
        credentials: async (host) => (await registry(host))?.credentials ?? null,
        insecure: async (host) => (await registry(host))?.insecure ?? false,
      });
      const applied = await cluster.apply(docs, c.namespace || undefined);
      const timeoutSeconds = c.stableTimeoutSeconds ?? DEFAULT_STABLE_TIMEOUT_SECONDS;
      return running(250, startWaiting(applied, timeoutSeconds, { manifestSource: source, images: replaced }));
    }),
  poll: pollRollout,
};

interface RegistryAccess {
  credentials: { username: string; password: string } | null;
  insecure: boolean;
}

/**
 * The image registry of the run's project whose URL names a host (its credentials, and whether it
 * speaks plain HTTP), asked once per host and only for hosts whose tags are looked up.
 */
function registryLookup(ctx: StageContext): (host: string) => Promise<RegistryAccess | null> {
  const asked = new Map<string, Promise<RegistryAccess | null>>();
  return (host) => {
    let answer = asked.get(host);
    if (!answer) {
      answer = ctx
        .request('rpc.environments.image-registry.for-host', { host, projectId: ctx.run.projectId }, { timeoutMs: 5000 })
        .then(({ registry }) => (registry ? { insecure: registry.insecure, credentials: registry.username && registry.password ? { username: registry.username, password: registry.password } : null } : null))
        // No answer from the environments service: the tag lookup goes on anonymously, and says so if refused.
        .catch(() => null);
      asked.set(host, answer);
    }
    return answer;
  };
}
