import { VirtualClock, type Clock } from '../../src/clock.js';
import type { ListeningGateway } from '../../src/gateway.js';
import type { Logger } from '../../src/log.js';
import { startLocalGateway } from '../../src/provisioning/index.js';
import { testDatabase } from './postgres.js';

export type TestDatabase = 'sqlite' | 'postgres';
let fileDatabase: TestDatabase = 'sqlite';

/**
 * Makes every `startTestGateway` of the calling test file put the registry, the ledger, the
 * audit log, the evidence and the telemetry in PostgreSQL (a fresh database on the shared test
 * server each time). test/integration/postgres/ runs whole suites this way: the same tests, the
 * other database.
 */
export function useDatabase(database: TestDatabase): void {
  fileDatabase = database;
}

async function databaseEnv(database: TestDatabase): Promise<Record<string, string>> {
  if (database === 'sqlite') return {};
  return { GATEWAY_DATABASE_URL: await testDatabase('gw'), GATEWAY_STORE: 'postgres' };
}

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
 * A real gateway (HTTP + MQTT on free ports, SQLite in a temporary data dir) for tests, through
 * the provisioning module the benchmarks and simulators use too. Pass a VirtualClock to drive
 * receive times; `env` adds GATEWAY_* settings.
 */
export async function startTestGateway(
  options: { clock?: Clock; env?: Record<string, string>; log?: Logger; dataDir?: string; database?: TestDatabase } = {},
): Promise<TestGateway> {
  const clock = options.clock ?? new VirtualClock('2020-10-09T08:00:00+08:00');
  const local = await startLocalGateway({
    env: {
      GATEWAY_ADMIN_KEY: TEST_ADMIN_KEY,
      GATEWAY_COMMIT_INTERVAL_MS: '1',
      ...(await databaseEnv(options.database ?? fileDatabase)),
      ...options.env,
    },
    clock,
    ...(options.log ? { log: options.log } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  return {
    gateway: local.gateway,
    httpUrl: local.httpUrl,
    mqttUrl: local.mqttUrl,
    mqttPort: local.gateway.mqttPort,
    adminKey: TEST_ADMIN_KEY,
    clock,
    dataDir: local.dataDir,
    api: (path, init) => local.api.request(path, init),
    json: (path, init) => local.api.json(path, init),
    close: () => local.close(),
  };
}
