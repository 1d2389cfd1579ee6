import { connect, describe, guarded, refOf } from './kubernetes';
import { failed, running, succeeded, type StageTypeOf } from './stage-type';


const GONE_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Deletes a named resource with a propagation policy and waits until it is gone (with FOREGROUND,
 * after its dependents). A resource already gone succeeds with a note.
 */
export const deleteStage: StageTypeOf<'DELETE'> = {
  type: 'DELETE',
  cancel: async () => 'a deletion already sent to the cluster goes on there; nothing was restored',
  start: (ctx) =>
    guarded(async () => {
      const c = ctx.config;
      const { cluster, target } = await connect(ctx, c.targetId);
      const ref = refOf(c, target);
      const policy = c.propagationPolicy ?? 'BACKGROUND';
      const result = await cluster.delete(ref, policy);
      const outputs = { deleted: result.deleted, note: result.note, propagationPolicy: policy, resource: { kind: ref.kind, name: ref.name, namespace: ref.namespace } };
      if (!result.deleted) return succeeded(outputs);
      return running(250, { outputs, deadline: Date.now() + GONE_TIMEOUT_MS, polls: 0 });
    }),
  poll: (ctx) =>
    guarded(async () => {
      const c = ctx.config;
      const { cluster, target } = await connect(ctx, c.targetId);
      const state = ctx.stage.state as { outputs: Record<string, unknown>; deadline: number; polls: number };
      const ref = refOf(c, target);
      if (!(await cluster.exists(ref))) return succeeded(state.outputs);
      if (Date.now() >= state.deadline) return failed(`${describe({ ...ref, namespace: ref.namespace ?? null })} was deleted but is still there after ${GONE_TIMEOUT_MS / 60000} minutes (a finalizer holds it?)`, false, state.outputs);
      return running(Math.min(5000, 250 * 1.5 ** state.polls), { ...state, polls: state.polls + 1 });
    }),
};
