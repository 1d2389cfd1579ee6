import { connect, DEFAULT_STABLE_TIMEOUT_SECONDS, guarded, LEFT_AS_IS, refOf, startWaiting, pollRollout } from './kubernetes';
import { running, type StageTypeOf } from './stage-type';


/** Sets a workload's replicas through its scale subresource and waits until it is stable. */
export const scaleStage: StageTypeOf<'SCALE'> = {
  type: 'SCALE',
  cancel: async () => LEFT_AS_IS,
  start: (ctx) =>
    guarded(async () => {
      const c = ctx.config;
      const { cluster, target } = await connect(ctx, c.targetId);
      const scaled = await cluster.scale(refOf(c, target), c.replicas);
      return running(250, startWaiting([scaled], DEFAULT_STABLE_TIMEOUT_SECONDS, { replicas: c.replicas }));
    }),
  poll: pollRollout,
};
