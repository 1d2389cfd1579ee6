import { isWorkload } from '@pipewright/kube';
import { connect, DEFAULT_STABLE_TIMEOUT_SECONDS, guarded, LEFT_AS_IS, output, refOf, startWaiting, pollRollout } from './kubernetes';
import { running, succeeded, type StageTypeOf } from './stage-type';


/** Patches a named resource (strategic merge, merge or JSON patch); waits for a workload to be stable. */
export const patchStage: StageTypeOf<'PATCH'> = {
  type: 'PATCH',
  cancel: async () => LEFT_AS_IS,
  start: (ctx) =>
    guarded(async () => {
      const c = ctx.config;
      const { cluster, target } = await connect(ctx, c.targetId);
      const patched = await cluster.patch(refOf(c, target), c.patch, c.strategy ?? 'STRATEGIC');
      const outputs = { strategy: c.strategy ?? 'STRATEGIC' };
      if (!isWorkload(patched.kind)) return succeeded({ ...outputs, resources: [output(patched)] });
      const state = startWaiting([patched], DEFAULT_STABLE_TIMEOUT_SECONDS, outputs);
      return running(250, state);
    }),
  poll: pollRollout,
};
