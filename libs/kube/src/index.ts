export * from './cluster';
export { kubeConfigFor, type ClusterTarget } from './kube-client';
export * from './image-reference';
export { KubeError, type KubeCause, type KubeErrorDetails } from './kube-error';
export { isWorkload, parseManifests, type Manifest } from './manifests';
export { listTags, tagDigests, type RegistryAccess } from './registry-tags';
export { REVISION_ANNOTATION, type Stability } from './stability';
export * from './substitute-images';
