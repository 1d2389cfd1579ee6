import { connect, DEFAULT_STABLE_TIMEOUT_SECONDS, guarded, LEFT_AS_IS, refOf, startWaiting, pollRollout } from './kubernetes';
import { running, type StageTypeOf } from './stage-type';


/**
 * Rolls a Deployment back a number of revisions from its ReplicaSets' revision annotations, as
 * `kubectl rollout undo --to-revision` does, then waits for the rollout. The undo is stamped on the
 * Deployment (pipewright.dev/rollout-undo) with the run, stage and attempt, so running `start`
 * again (a crash before its outcome was saved) does not step back a second time.
 */
export const rolloutUndoStage: StageTypeOf<'ROLLOUT_UNDO'> = {
  type: 'ROLLOUT_UNDO',
  cancel: async () => LEFT_AS_IS,
  start: (ctx) =>
    guarded(async () => {
      const c = ctx.config;
      const { cluster, target } = await connect(ctx, c.targetId);
      // Marked with the stage attempt: a start repeated after a crash or a retry finds its own undo done.
      const undo = await cluster.rolloutUndo(refOf(c, target), c.revisionsBack ?? 1, { marker: ctx.attemptKey });
      return running(250, startWaiting([undo.resource], DEFAULT_STABLE_TIMEOUT_SECONDS, { fromRevision: undo.fromRevision, toRevision: undo.toRevision }));
    }),
  poll: pollRollout,
};
