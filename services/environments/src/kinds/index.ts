import { buildToolKind } from './build-tool.kind';
import { chartRepositoryKind } from './chart-repository.kind';
import { deploymentTargetKind } from './deployment-target.kind';
import { imageRegistryKind } from './image-registry.kind';
import type { KindDefinition } from './kind';
import { secretKind } from './secret.kind';
import { sourceRepositoryKind } from './source-repository.kind';

/** Every kind of environment resource; the only place a kind is registered. */
export const KINDS: readonly KindDefinition[] = [sourceRepositoryKind, buildToolKind, imageRegistryKind, chartRepositoryKind, deploymentTargetKind, secretKind] as KindDefinition[];
