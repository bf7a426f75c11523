import { ConfigError, loadConfig } from './config.js';
import { startGateway } from './gateway.js';
import { createLogger } from './log.js';

/**
 * `npm start`: config → stores → broker → API → listen, on the embedded defaults.
 * SIGTERM/SIGINT stop accepting, flush the last batch and close cleanly.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: config.log.level });
  const gateway = await startGateway({ config, log });
  // Handlers first: a SIGTERM right after "gateway ready" must still flush and close.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (gateway.generatedAdminKey) {
    // Printed once, never logged: the key is stored only as a hash.
    process.stdout.write(
      `\nGenerated admin API key (shown once, keep it): ${gateway.generatedAdminKey}\n` +
        `Set GATEWAY_ADMIN_KEY to choose your own.\n\n`,
    );
  }
  process.stdout.write(
    `gateway ready: http://${config.http.host}:${gateway.httpPort}/  mqtt://${config.mqtt.host}:${gateway.mqttPort}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
