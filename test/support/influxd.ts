/**
 * A real InfluxDB 1.x server for tests: Debian's `influxd` started on free ports with its own
 * temporary data dir and config file. `kill()` SIGKILLs it (an outage); `restart()` starts it
 * again on the same ports and data dir, so what it acknowledged before must still be there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitedOrKilled, freePort, sleep } from './process.js';

export const INFLUXD_BIN = process.env.INFLUXD_BIN ?? '/usr/bin/influxd';

export interface InfluxdServer {
  /** `http://127.0.0.1:<port>` — no database in the path; append `/<db>` for the store. */
  url: string;
  dataDir: string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its data dir. */
  stop(): Promise<void>;
  /** SIGKILLs the server now, keeping its data dir: an outage. */
  kill(): void;
  /** Starts the server again on the same port and data dir; resolves once /ping answers 204. */
  restart(): Promise<void>;
}

export function influxdAvailable(): boolean {
  return existsSync(INFLUXD_BIN);
}

export async function startInfluxd(): Promise<InfluxdServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-influxd-'));
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const configFile = join(dataDir, 'influxdb.conf');
  // Keys as in Debian's /etc/influxdb/influxdb.conf (1.6): `reporting-enabled` is top level.
  writeFileSync(
    configFile,
    [
      'reporting-enabled = false',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dataDir, 'meta')}"`,
      '  logging-enabled = false',
      '[data]',
      `  dir = "${join(dataDir, 'data')}"`,
      `  wal-dir = "${join(dataDir, 'wal')}"`,
      '  query-log-enabled = false',
      '  wal-fsync-delay = "0s"',
      // Snapshot and compact soon after writes stop, so `du` of a test server is meaningful.
      '  cache-snapshot-write-cold-duration = "2s"',
      '  compact-full-write-cold-duration = "5s"',
      '[monitor]',
      '  store-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${httpPort}"`,
      '  log-enabled = false',
      '[logging]',
      '  level = "warn"',
      '[continuous_queries]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  let stderrTail = '';

  const launch = async (): Promise<void> => {
    stderrTail = '';
    const proc = spawn(INFLUXD_BIN, ['-config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-4000);
    });
    child = proc;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`influxd exited during start-up (${proc.exitCode ?? proc.signalCode}):\n${stderrTail}`);
      }
      try {
        const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(500) });
        if (res.status === 204) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    proc.kill('SIGKILL');
    throw new Error(`influxd did not answer /ping within 30 s:\n${stderrTail}`);
  };

  await launch();
  return {
    url,
    dataDir,
    kill() {
      child?.kill('SIGKILL');
    },
    async restart() {
      if (child) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exitedOrKilled(child, 5000);
      }
      await launch();
    },
    async stop() {
      if (child) {
        child.kill('SIGTERM');
        await exitedOrKilled(child, 5000);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
