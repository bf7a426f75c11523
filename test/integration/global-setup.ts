/**
 * Integration globalSetup: the real services the tests need, started once.
 *
 * - mosquitto clients (`mosquitto_pub`/`mosquitto_sub`) must be on PATH;
 * - a real InfluxDB 1.x (Debian's influxd) on a free port with a temporary data dir; its
 *   URL goes to tests as `inject('influxUrl')`, each test using its own database.
 *
 * `npm test` (scripts/test.sh) installs both when missing. Anything still missing fails the
 * run, in CI or not: a test that cannot run is a failure, never a skip.
 */
import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { INFLUXD_BIN, influxdAvailable, startInfluxd } from '../support/influxd.js';

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missing: string[] = [];
  const missingClients = ['mosquitto_pub', 'mosquitto_sub'].filter((c) => !onPath(c));
  if (missingClients.length > 0) missing.push(`${missingClients.join(' and ')} not on PATH (apt-get install mosquitto-clients)`);
  if (!influxdAvailable()) missing.push(`${INFLUXD_BIN} is absent (apt-get install influxdb, or set INFLUXD_BIN)`);
  if (missing.length > 0) {
    throw new Error(`integration tests need real services: ${missing.join('; ')} — or run \`npm test\`, which installs them`);
  }

  const server = await startInfluxd();
  project.provide('influxUrl', server.url);
  return async () => {
    await server.stop();
  };
}
