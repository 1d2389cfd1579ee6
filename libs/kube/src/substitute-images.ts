import { parseImageReference, repositoryKey, type ImageReference } from './image-reference';
import { KubeError } from './kube-error';
import { asRecord, podSpecOf, type Manifest } from './manifests';
import { listTags, type RegistryAccess } from './registry-tags';

export const BUILD_NUMBER_PLACEHOLDER = '{BUILD_NUMBER}';

export interface SubstituteImagesOptions extends RegistryAccess {
  /** Image references from docker/image artifacts; each replaces the images of its repository. */
  images: string[];
}

export interface ImageReplacement {
  from: string;
  to: string;
  reason: string;
  /** Where, e.g. `document 1 (Deployment web) container main`. */
  where: string;
}

interface ContainerSlot {
  container: Record<string, unknown>;
  where: string;
}

function containerSlots(doc: Manifest, index: number): ContainerSlot[] {
  const podSpec = podSpecOf(doc);
  if (!podSpec) return [];
  const name = asRecord(doc.metadata)?.name;
  const slots: ContainerSlot[] = [];
  for (const field of ['initContainers', 'containers'] as const) {
    const list = podSpec[field];
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      const container = asRecord(c);
      if (container && typeof container.image === 'string') {
        const label = field === 'initContainers' ? 'init container' : 'container';
        slots.push({ container, where: `document ${index + 1} (${String(doc.kind)} ${String(name)}) ${label} ${String(container.name ?? '?')}` });
      }
    }
  }
  return slots;
}

/** `^_(\d+)$` for `_{BUILD_NUMBER}`; every further placeholder must be the same number. */
export function tagPattern(format: string): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const parts = format.split(BUILD_NUMBER_PLACEHOLDER).map(escape);
  return new RegExp(`^${parts[0]}(\\d+)${parts.slice(1).map((p, i) => (i === 0 ? p : `\\1${p}`)).join('')}$`);
}

/** The tag of `format` with the highest build number among `tags`, or null. */
export function highestTag(format: string, tags: string[]): { tag: string; number: bigint } | null {
  const pattern = tagPattern(format);
  let best: { tag: string; number: bigint } | null = null;
  for (const tag of tags) {
    const m = pattern.exec(tag);
    if (!m) continue;
    const number = BigInt(m[1]);
    if (!best || number > best.number) best = { tag, number };
  }
  return best;
}

/**
 * Image substitution for a deploy. (1) Every container/initContainer image of the repository of
 * an `images` entry (registry host + path; tag and digest ignored) becomes that entry (the last
 * one wins when several name the same repository). (2) An image whose tag contains
 * `{BUILD_NUMBER}` becomes the registry's tag of that format with the highest number. The input
 * is not changed; the result is new documents and each replacement made.
 */
export async function substituteImages(
  docs: Manifest[],
  options: SubstituteImagesOptions,
): Promise<{ docs: Manifest[]; replaced: ImageReplacement[] }> {
  const out = structuredClone(docs);
  const replaced: ImageReplacement[] = [];
  const artifacts = new Map<string, string>();
  for (const image of options.images) {
    if (image.includes(BUILD_NUMBER_PLACEHOLDER)) throw new KubeError(`image artifact ${image} still contains ${BUILD_NUMBER_PLACEHOLDER}; artifacts must be concrete references`);
    artifacts.set(repositoryKey(image), image);
  }
  const tagCache = new Map<string, Promise<string[]>>();
  const tagsOf = (ref: ImageReference) => {
    const key = repositoryKey(ref);
    if (!tagCache.has(key)) tagCache.set(key, listTags(ref, options));
    return tagCache.get(key)!;
  };

  for (const [index, doc] of out.entries()) {
    for (const { container, where } of containerSlots(doc, index)) {
      const from = container.image as string;
      const ref = parseImageReference(from);
      const artifact = artifacts.get(repositoryKey(ref));
      if (artifact) {
        if (artifact !== from) {
          container.image = artifact;
          replaced.push({ from, to: artifact, reason: `image artifact ${artifact} is of repository ${ref.name}`, where });
        }
        continue;
      }
      if (!ref.tag?.includes(BUILD_NUMBER_PLACEHOLDER)) continue;
      if (ref.digest) throw new KubeError(`${where}: image ${from} has both a ${BUILD_NUMBER_PLACEHOLDER} tag and a digest; use one of them`);
      const tags = await tagsOf(ref);
      const best = highestTag(ref.tag, tags);
      if (!best) {
        const seen = tags.length ? `tags seen: ${tags.slice(0, 20).join(', ')}${tags.length > 20 ? ` and ${tags.length - 20} more` : ''}` : 'the repository has no tags';
        throw new KubeError(`${where}: no tag of ${ref.registry}/${ref.path} matches "${ref.tag}" (${seen})`, { reason: 'NoMatchingTag' });
      }
      const to = `${ref.name}:${best.tag}`;
      container.image = to;
      replaced.push({ from, to, reason: `highest tag of ${ref.registry}/${ref.path} matching "${ref.tag}" (build ${best.number})`, where });
    }
  }
  return { docs: out, replaced };
}
