import { connect, DEFAULT_STABLE_TIMEOUT_SECONDS, guarded, LEFT_AS_IS, refOf, startWaiting, pollRollout } from './kubernetes';
import { running, type StageType } from './stage-type';

interface UndoConfig {
  targetId: string;
  namespace?: string;
  kind: string;
  name: string;
  revisionsBack?: number;
}

/**
 * Rolls a Deployment back a number of revisions from its ReplicaSets' revision annotations, as
 * `kubectl rollout undo --to-revision` does, then waits for the rollout. Never retried: a second
 * attempt would go back again from the revision the first one made.
 */
export const rolloutUndoStage: StageType = {
  type: 'ROLLOUT_UNDO',
  cancelNote: LEFT_AS_IS,
  start: (ctx) =>
    guarded(async () => {
      const c = ctx.config as unknown as UndoConfig;
      const { cluster, target } = await connect(ctx, c.targetId);
      const undo = await cluster.rolloutUndo(refOf(c, target), c.revisionsBack ?? 1);
      return running(250, startWaiting([undo.resource], DEFAULT_STABLE_TIMEOUT_SECONDS, { fromRevision: undo.fromRevision, toRevision: undo.toRevision }));
    }),
  poll: pollRollout,
};
