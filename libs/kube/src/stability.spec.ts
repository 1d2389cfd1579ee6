import { KubeError } from './kube-error';
import { podProblem, selectorToString, workloadState, type KubeObject } from './stability';

const deployment = (spec: Record<string, unknown>, status: Record<string, unknown>, generation = 2, revision = '2'): KubeObject => ({
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 't1', generation, annotations: { 'deployment.kubernetes.io/revision': revision } },
  spec: { replicas: 3, ...spec },
  status,
});

describe('workloadState', () => {
  it('waits for the controller to observe the latest generation', () => {
    expect(workloadState(deployment({}, { observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3 }))).toEqual({
      stable: false,
      summary: 'waiting for the Deployment controller to observe generation 2 (it has seen 1)',
      revision: 2,
    });
  });

  it('says how many replicas are ready and updated during a rollout, and when old ones remain', () => {
    expect(workloadState(deployment({}, { observedGeneration: 2, replicas: 4, readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 }))).toEqual({
      stable: false,
      summary: '1 of 3 replicas ready, 2 updated, 2 old replicas pending termination',
      revision: 2,
    });
    expect(workloadState(deployment({}, { observedGeneration: 2, replicas: 4, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3 })).stable).toBe(false);
  });

  it('is stable when updated = ready = available = replicas = desired, with the revision', () => {
    expect(workloadState(deployment({}, { observedGeneration: 2, replicas: 3, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3 }))).toEqual({
      stable: true,
      summary: '3 of 3 replicas ready (revision 2)',
      revision: 2,
    });
    expect(workloadState(deployment({ replicas: 0 }, { observedGeneration: 2 })).stable).toBe(true);
  });

  it('throws past the progress deadline', () => {
    const stuck = deployment({}, {
      observedGeneration: 2,
      replicas: 3,
      readyReplicas: 0,
      updatedReplicas: 3,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-1" has timed out progressing.' }],
    });
    expect(() => workloadState(stuck)).toThrow(new KubeError('deployment web in namespace t1 exceeded its progress deadline: 0 of 3 replicas ready, 3 updated (ReplicaSet "web-1" has timed out progressing.)'));
  });

  it('reads DaemonSets and StatefulSets', () => {
    const ds: KubeObject = { kind: 'DaemonSet', metadata: { name: 'd', generation: 1 }, status: { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberReady: 1, numberAvailable: 1 } };
    expect(workloadState(ds)).toEqual({ stable: false, summary: '1 of 2 scheduled pods ready, 2 updated', controllerRevision: 'generation 1' });
    const sts: KubeObject = { kind: 'StatefulSet', metadata: { name: 's', generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1, replicas: 2, readyReplicas: 2, updatedReplicas: 2, currentRevision: 'a', updateRevision: 'b' } };
    expect(workloadState(sts).stable).toBe(false);
    expect(workloadState({ ...sts, status: { ...sts.status, currentRevision: 'b' } })).toEqual({ stable: true, summary: '2 of 2 replicas ready', revision: undefined, controllerRevision: 'b' });
  });

  it('reads Jobs: Complete is stable, Failed throws with the reason', () => {
    const job = (status: Record<string, unknown>): KubeObject => ({ kind: 'Job', metadata: { name: 'migrate', namespace: 't1' }, spec: { completions: 1 }, status });
    expect(workloadState(job({ active: 1 }))).toEqual({ stable: false, summary: '0 of 1 completions, 1 active' });
    expect(workloadState(job({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }))).toEqual({ stable: true, summary: 'complete: 1 of 1 succeeded' });
    expect(() => workloadState(job({ failed: 3, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] }))).toThrow(
      'job migrate in namespace t1 failed: BackoffLimitExceeded: Job has reached the specified backoff limit',
    );
  });

  it('calls anything else stable because it exists', () => {
    expect(workloadState({ kind: 'Service', metadata: { name: 's', namespace: 'n' } })).toEqual({ stable: true, summary: 'service s in namespace n exists' });
  });
});

describe('podProblem', () => {
  it('prefers a container waiting reason, with its message', () => {
    expect(
      podProblem({
        metadata: { name: 'p' },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [main]' }],
          containerStatuses: [{ name: 'main', ready: false, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } } }],
        },
      }),
    ).toBe('container main: CrashLoopBackOff: back-off 40s');
  });

  it('falls back to a failed init container, the Ready condition, scheduling, then the phase', () => {
    expect(podProblem({ status: { initContainerStatuses: [{ name: 'init', state: { terminated: { reason: 'Error', exitCode: 2 } } }] } })).toBe('init container init: Error (exit code 2)');
    expect(podProblem({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: 'gate x' }] } })).toBe('ReadinessGatesNotReady: gate x');
    expect(podProblem({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available' }] } })).toBe('Unschedulable: 0/1 nodes are available');
    expect(podProblem({ status: { phase: 'Pending' } })).toBe('phase Pending');
    expect(podProblem({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })).toBeNull();
  });
});

describe('selectorToString', () => {
  it('writes matchLabels and matchExpressions as a labelSelector', () => {
    expect(
      selectorToString({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,tier in (a,b),env notin (dev),team,!legacy');
  });
});
