// `npm run rotate-secrets`: re-seals every stored credential under SECRETS_ACTIVE_KEY (default: the
// last key of SECRETS_KEYS). Run it after adding a new key; remove the old key once it reports 0 left.
import 'reflect-metadata';
import { createDataSource, openDatabase } from '@pipewright/persistence';
import { ConfigError, loadConfig } from '@pipewright/platform';
import { z } from 'zod';
import { configSchema, secretBoxFrom } from './config';
import { ResourceEntity } from './resources/resource.entity';
import { rotateSecrets } from './secrets/rotation';
import { migrations } from './migrations';

const rotationSchema = configSchema.innerType().pick({ DATABASE_URL: true, SECRETS_KEYS: true, SECRETS_ACTIVE_KEY: true });

async function main() {
  let config: z.infer<typeof rotationSchema>;
  try {
    config = loadConfig(rotationSchema);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : String(err));
    process.exit(1);
  }
  const box = secretBoxFrom(config);
  const ds = await openDatabase(createDataSource({ url: config.DATABASE_URL, entities: [ResourceEntity], migrations, applicationName: 'rotate-secrets' }));
  try {
    const { rotated, left } = await rotateSecrets(ds, box);
    console.log(JSON.stringify({ rotated, activeKey: box.activeKeyId, left }));
  } finally {
    await ds.destroy();
  }
}

void main().catch((err) => {
  console.error(`rotate-secrets failed: ${(err as Error).message}`);
  process.exit(1);
});
