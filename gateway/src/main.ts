import { ConfigError, JsonLogger } from '@pipewright/platform';
import { loadGatewayConfig } from './config';
import { startGateway } from './gateway';

async function main() {
  const bootLog = new JsonLogger('gateway', 'info', (l) => process.stderr.write(l + '\n'));
  let config;
  try {
    config = loadGatewayConfig();
  } catch (err) {
    bootLog.fatal({ message: err instanceof ConfigError ? err.message : String(err) }, 'Bootstrap');
    process.exit(1);
  }
  const gw = await startGateway(config);
  const shutdown = () => void gw.stop().then(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

void main();
