/**
 * Integration globalSetup: the real services the tests need, started once.
 *
 * - mosquitto clients (`mosquitto_pub`/`mosquitto_sub`) must be on PATH;
 * - a real InfluxDB 1.x (Debian's influxd) on a free port with a temporary data dir; its
 *   URL goes to tests as `inject('influxUrl')`, each test using its own database.
 *
 * - a real PostgreSQL 15 (Debian's initdb/pg_ctl) in a temporary cluster on a free port; its
 *   URL goes to tests as `inject('postgresUrl')`, each test creating its own database.
 *
 * - Debian's `haproxy` (/usr/sbin or PATH): the cluster tests (test/integration/cluster) start their own,
 *   in front of gateway nodes (cluster/haproxy.ts).
 *
 * `npm test` (scripts/test.sh) installs them when missing. Anything still missing fails the
 * run in CI and under `npm test`; a bare `npx vitest` on a machine without influxd leaves the
 * InfluxDB suites out and says so loudly (issue: "when influxd is absent outside CI the suite
 * says loudly that it was skipped, in CI it fails").
 */
import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { HAPROXY_BINARY } from '../../cluster/haproxy.js';
import { INFLUXD_BIN, influxdAvailable, startInfluxd } from '../support/influxd.js';
import { POSTGRES_BIN_DIR, postgresAvailable, startPostgres } from '../support/postgres.js';

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** `npm test` (scripts/test.sh) and CI require every service; a bare `npx vitest` elsewhere may lack influxd. */
const strict = process.env.CI === 'true' || process.env.GATEWAY_TEST_REQUIRE_SERVICES === '1';

function loud(message: string): void {
  const bar = '!'.repeat(Math.min(100, message.length + 8));
  console.warn(`\n${bar}\n!!! ${message}\n${bar}\n`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missingClients = ['mosquitto_pub', 'mosquitto_sub'].filter((c) => !onPath(c));
  if (missingClients.length > 0) {
    throw new Error(`${missingClients.join(' and ')} not on PATH (apt-get install mosquitto-clients, or run \`npm test\`, which installs them)`);
  }

  if (HAPROXY_BINARY === 'haproxy' && !onPath('haproxy')) {
    const message = 'haproxy is absent (apt-get install haproxy, or run `npm test`, which installs it)';
    if (strict) throw new Error(`${message}: the cluster fail-over tests must run here`);
    // Not skipped: the cluster tests fail, saying the same; the rest runs.
    loud(`cluster tests will FAIL: ${message}`);
  }

  const stops: Array<() => Promise<void>> = [];
  const teardown = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    if (!influxdAvailable()) {
      const message = `${INFLUXD_BIN} is absent (apt-get install influxdb, or run \`npm test\`, which installs it)`;
      if (strict) throw new Error(`${message}: the InfluxDB store tests must run here`);
      // Outside CI and the test command only: the InfluxDB suites are not registered, and say so.
      loud(`InfluxDB store tests SKIPPED: ${message}`);
      project.provide('influxUrl', null);
    } else {
      const server = await startInfluxd();
      stops.push(() => server.stop());
      project.provide('influxUrl', server.url);
    }

    if (!postgresAvailable()) {
      const message = `${POSTGRES_BIN_DIR}/initdb is absent (apt-get install postgresql, or run \`npm test\`, which installs it)`;
      if (strict) throw new Error(`${message}: the PostgreSQL store tests must run here`);
      loud(`PostgreSQL store tests SKIPPED: ${message}`);
      project.provide('postgresUrl', null);
    } else {
      const server = await startPostgres();
      stops.push(() => server.stop());
      project.provide('postgresUrl', server.url);
    }
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
