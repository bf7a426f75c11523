import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock, type Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { startGateway, type ListeningGateway } from '../../src/gateway.js';
import type { Logger } from '../../src/log.js';

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export interface TestGateway {
  gateway: ListeningGateway;
  httpUrl: string;
  mqttUrl: string;
  mqttPort: number;
  adminKey: string;
  clock: Clock;
  dataDir: string;
  /** fetch against the gateway; `key` defaults to the admin key, `null` sends none. */
  api(path: string, init?: { method?: string; body?: unknown; key?: string | null; headers?: Record<string, string> }): Promise<Response>;
  /** Like `api`, but fails unless the status is 2xx, and returns the parsed JSON. */
  json<T = any>(path: string, init?: { method?: string; body?: unknown; key?: string | null }): Promise<T>;
  close(): Promise<void>;
}

/**
 * A real gateway (HTTP + MQTT on free ports, SQLite in a temporary data dir) for tests.
 * Pass a VirtualClock to drive receive times; `env` adds GATEWAY_* settings.
 */
export async function startTestGateway(options: { clock?: Clock; env?: Record<string, string>; log?: Logger; dataDir?: string } = {}): Promise<TestGateway> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gw-test-'));
  const config = loadConfig({
    GATEWAY_HTTP_PORT: '0',
    GATEWAY_MQTT_PORT: '0',
    GATEWAY_DATA_DIR: dataDir,
    GATEWAY_ADMIN_KEY: TEST_ADMIN_KEY,
    GATEWAY_COMMIT_INTERVAL_MS: '1',
    ...options.env,
  });
  const clock = options.clock ?? new VirtualClock('2020-10-09T08:00:00+08:00');
  const gateway = await startGateway({ config, clock, ...(options.log ? { log: options.log } : {}) });
  const httpUrl = `http://127.0.0.1:${gateway.httpPort}`;

  const api: TestGateway['api'] = (path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    const key = init.key === undefined ? TEST_ADMIN_KEY : init.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (init.body !== undefined) headers['content-type'] ??= 'application/json';
    return fetch(httpUrl + path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    });
  };

  return {
    gateway,
    httpUrl,
    mqttUrl: `mqtt://127.0.0.1:${gateway.mqttPort}`,
    mqttPort: gateway.mqttPort,
    adminKey: TEST_ADMIN_KEY,
    clock,
    dataDir,
    api,
    async json(path, init) {
      const res = await api(path, init);
      const text = await res.text();
      if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path} → ${res.status}: ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    async close() {
      await gateway.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
