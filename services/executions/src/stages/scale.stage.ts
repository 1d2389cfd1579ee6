import { connect, DEFAULT_STABLE_TIMEOUT_SECONDS, guarded, LEFT_AS_IS, refOf, startWaiting, pollRollout } from './kubernetes';
import { running, type StageType } from './stage-type';

interface ScaleConfig {
  targetId: string;
  namespace?: string;
  kind: string;
  name: string;
  replicas: number;
}

/** Sets a workload's replicas through its scale subresource and waits until it is stable. */
export const scaleStage: StageType = {
  type: 'SCALE',
  cancelNote: LEFT_AS_IS,
  start: (ctx) =>
    guarded(async () => {
      const c = ctx.config as unknown as ScaleConfig;
      const { cluster, target } = await connect(ctx, c.targetId);
      const scaled = await cluster.scale(refOf(c, target), c.replicas);
      return running(250, startWaiting([scaled], DEFAULT_STABLE_TIMEOUT_SECONDS, { replicas: c.replicas }));
    }),
  poll: pollRollout,
};
