import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { VirtualClock, monotonicMs } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { creditCodeCheckChar } from '../src/registry/index.js';
import type { Logger } from '../src/log.js';
import { createApiClient, type ApiClient } from './provision.js';

export { creditCodeCheckChar };

/** A gateway started in this process on a VirtualClock, with a temporary data dir. */
export interface InProcessGateway {
  gateway: Gateway;
  clock: VirtualClock;
  api: ApiClient;
  adminKey: string;
  dataDir: string;
  httpUrl: string;
  /** Waits until the gateway has processed `published` heartbeats in total (QoS 0 barrier). */
  settle(published: number): Promise<void>;
  close(): Promise<void>;
}

export async function startInProcessGateway(options: {
  start: number;
  /** Extra GATEWAY_* settings; ports default to 0 (free ports). */
  env?: Record<string, string | undefined>;
  log?: Logger;
  /** Keep the data dir after close. */
  keepDataDir?: boolean;
}): Promise<InProcessGateway> {
  const env = options.env ?? {};
  const dataDir = env.GATEWAY_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'gateway-sim-'));
  const adminKey = env.GATEWAY_ADMIN_KEY ?? `sim-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    GATEWAY_HTTP_PORT: '0',
    GATEWAY_MQTT_PORT: '0',
    // The next turn of the event loop: each virtual tick waits for its PUBACKs, so the commit delay is pure overhead.
    GATEWAY_COMMIT_INTERVAL_MS: '0',
    GATEWAY_LOG_LEVEL: 'warn',
    ...env,
    GATEWAY_DATA_DIR: dataDir,
    GATEWAY_ADMIN_KEY: adminKey,
  });
  const clock = new VirtualClock(options.start);
  const gateway = await startGateway({ config, clock, ...(options.log ? { log: options.log } : {}) });
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  const httpUrl = `http://${host}:${gateway.httpPort}`;

  async function processed(): Promise<number> {
    const [accepted, rejected] = await Promise.all([gateway.metrics.heartbeatsAccepted.get(), gateway.metrics.heartbeatsRejected.get()]);
    let n = 0;
    for (const v of accepted.values) n += v.value;
    for (const v of rejected.values) n += v.value;
    return n;
  }

  return {
    gateway,
    clock,
    api: createApiClient(httpUrl, adminKey),
    adminKey,
    dataDir,
    httpUrl,
    async settle(published) {
      const deadline = monotonicMs() + 5000;
      for (;;) {
        await gateway.flush();
        if ((await processed()) >= published) return;
        if (monotonicMs() > deadline) return; // a publish that never arrived (connection lost): do not hang the run
        await nextTurn();
      }
    },
    async close() {
      await gateway.close();
      if (!options.keepDataDir && !env.GATEWAY_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
