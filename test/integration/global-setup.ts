/**
 * Integration globalSetup: the real services the tests need, started once.
 *
 * - mosquitto clients (`mosquitto_pub`/`mosquitto_sub`) must be on PATH;
 * - a real InfluxDB 1.x (Debian's influxd) on a free port with a temporary data dir; its
 *   URL goes to tests as `inject('influxUrl')`, each test using its own database.
 *
 * `npm test` (scripts/test.sh) installs both when missing. Anything still missing fails the
 * run in CI (CI=true) and is announced loudly otherwise — never skipped silently.
 */
import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { INFLUXD_BIN, influxdAvailable, startInfluxd } from '../support/influxd.js';

const inCi = process.env.CI === 'true';

function loud(message: string): void {
  const bar = '!'.repeat(Math.min(100, message.length + 8));
  console.warn(`\n${bar}\n!!! ${message}\n${bar}\n`);
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missingClients = ['mosquitto_pub', 'mosquitto_sub'].filter((c) => !onPath(c));
  if (missingClients.length > 0) {
    const message = `${missingClients.join(' and ')} not on PATH (apt-get install mosquitto-clients, or run npm test): the mosquitto client tests cannot run`;
    if (inCi) throw new Error(message);
    loud(message);
  }

  if (!influxdAvailable()) {
    const message = `${INFLUXD_BIN} is absent (apt-get install influxdb, or run npm test): InfluxDB store tests are SKIPPED`;
    if (inCi) throw new Error(`${message} — not allowed in CI`);
    loud(message);
    project.provide('influxUrl', null);
    return async () => undefined;
  }

  const server = await startInfluxd();
  project.provide('influxUrl', server.url);
  return async () => {
    await server.stop();
  };
}
