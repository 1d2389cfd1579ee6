import { isWorkload } from '@pipewright/kube';
import { connect, DEFAULT_STABLE_TIMEOUT_SECONDS, guarded, LEFT_AS_IS, output, refOf, startWaiting, pollRollout } from './kubernetes';
import { running, succeeded, type StageType } from './stage-type';

interface PatchConfig {
  targetId: string;
  namespace?: string;
  kind: string;
  name: string;
  patch: unknown;
  strategy?: 'STRATEGIC' | 'MERGE' | 'JSON';
}

/** Patches a named resource (strategic merge, merge or JSON patch); waits for a workload to be stable. */
export const patchStage: StageType = {
  type: 'PATCH',
  cancelNote: LEFT_AS_IS,
  start: (ctx) =>
    guarded(async () => {
      const c = ctx.config as unknown as PatchConfig;
      const { cluster, target } = await connect(ctx, c.targetId);
      const patched = await cluster.patch(refOf(c, target), c.patch, c.strategy ?? 'STRATEGIC');
      const outputs = { strategy: c.strategy ?? 'STRATEGIC' };
      if (!isWorkload(patched.kind)) return succeeded({ ...outputs, resources: [output(patched)] });
      const state = startWaiting([patched], DEFAULT_STABLE_TIMEOUT_SECONDS, outputs);
      return running(250, state);
    }),
  poll: pollRollout,
};
