import type { KindDefinition, Settings } from '../kinds/kind';
import { secretAad } from '../secrets/rotation';
import type { SecretBox } from '@pipewright/platform';
import type { ResourceEntity } from './resource.entity';

/** Splits validated settings into plain config and sealed secrets (bound to the row and field). */
export function sealSecrets(box: SecretBox, def: KindDefinition, id: string, settings: Settings) {
  const config: Record<string, unknown> = {};
  const secrets: ResourceEntity['secrets'] = {};
  for (const [field, value] of Object.entries(settings)) {
    if (!def.secretFields.includes(field)) config[field] = value;
    else if (typeof value === 'string') secrets[field] = box.seal(value, secretAad(id, field));
  }
  return { config, secrets };
}

/** Every secret of a row, decrypted. */
export function openSecrets(box: SecretBox, row: ResourceEntity): Record<string, string> {
  return Object.fromEntries(Object.entries(row.secrets).map(([field, sealed]) => [field, box.open(sealed, secretAad(row.id, field))]));
}
