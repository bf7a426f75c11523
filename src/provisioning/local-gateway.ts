import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { loadConfig } from '../config.js';
import { startGateway, type ListeningGateway } from '../gateway.js';
import type { Logger } from '../log.js';
import { createApiClient, type ApiClient } from './api-client.js';

export interface LocalGateway {
  gateway: ListeningGateway;
  adminKey: string;
  dataDir: string;
  /** The HTTP address clients use (127.0.0.1 when the gateway listens on every interface). */
  httpUrl: string;
  mqttUrl: string;
  /** The admin's JSON client. */
  api: ApiClient;
  /** Closes the gateway, then removes the data dir if this function made it. */
  close(): Promise<void>;
}

/**
 * A whole gateway on free ports (0) with its data in a new temporary directory — what tests,
 * benchmarks and simulators start. `env` adds or overrides GATEWAY_* settings.
 */
export async function startLocalGateway(options: {
  env?: Record<string, string | undefined>;
  clock?: Clock;
  log?: Logger;
  /** Use this data dir (kept on close) instead of a new temporary one. */
  dataDir?: string;
  /** Keep the temporary data dir on close. */
  keepDataDir?: boolean;
} = {}): Promise<LocalGateway> {
  const env = options.env ?? {};
  const given = options.dataDir ?? env.GATEWAY_DATA_DIR;
  const dataDir = given ?? mkdtempSync(join(tmpdir(), 'gateway-'));
  const removeDataDir = () => {
    if (given === undefined && !options.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const adminKey = env.GATEWAY_ADMIN_KEY ?? `local-${randomBytes(16).toString('hex')}`;
  let gateway: ListeningGateway;
  try {
    const config = loadConfig({
      GATEWAY_HTTP_PORT: '0',
      GATEWAY_MQTT_PORT: '0',
      ...env,
      GATEWAY_DATA_DIR: dataDir,
      GATEWAY_ADMIN_KEY: adminKey,
    });
    gateway = await startGateway({ config, ...(options.clock ? { clock: options.clock } : {}), ...(options.log ? { log: options.log } : {}) });
  } catch (err) {
    removeDataDir();
    throw err;
  }
  const host = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
  const httpUrl = `http://${host(gateway.config.http.host)}:${gateway.httpPort}`;
  return {
    gateway,
    adminKey,
    dataDir,
    httpUrl,
    mqttUrl: `mqtt://${host(gateway.config.mqtt.host)}:${gateway.mqttPort}`,
    api: createApiClient(httpUrl, adminKey),
    async close() {
      await gateway.close();
      removeDataDir();
    },
  };
}
