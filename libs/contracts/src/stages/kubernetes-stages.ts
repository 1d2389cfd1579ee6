import { z } from 'zod';
import { k8sKind, k8sName, k8sNamespace, resourceId } from './define-stage';

/** The fields every stage that acts on one named Kubernetes resource has. */
export const namedResource = {
  targetId: resourceId('deployment target').describe('The Kubernetes cluster.'),
  namespace: k8sNamespace.optional().describe("Namespace; default: the target's default namespace."),
  kind: k8sKind.describe('Kind of the resource, e.g. Deployment.'),
  name: k8sName.describe('Name of the resource.'),
};

export const targetReference = (c: { targetId: string }) => [{ path: 'targetId', kind: 'deployment-target' as const, id: c.targetId }];

export const wholeNumber = (min: number, max: number) =>
  z.number({ invalid_type_error: 'must be a number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
