import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type ChildGateway } from '../../support/child-gateway.js';
import { figure, storeViolations } from '../../support/fuzz.js';
import { ackedButMissing, countedHeartbeats, publishUntilStopped, stopAfterReady, storedSeqs } from '../../support/qos1-load.js';
import { seedContract, type SeededDevice } from '../../support/seed.js';

/**
 * Disk full and read-only data dir (issue item 4), on a small tmpfs mounted for the test
 * (root, or passwordless sudo). What is expected:
 * - at run time, a full disk makes appends fail: PUBACKs are withheld (the connection is
 *   closed, the device retries), the process stays up, nothing acknowledged is lost, the file
 *   stays intact, and ingestion resumes by itself once space returns;
 * - at start-up, a full or read-only data dir fails fast with a message naming the directory.
 * A read-only remount *while the gateway runs* cannot be staged: Linux refuses
 * `mount -o remount,ro` with EBUSY while SQLite holds the file open for writing (SECURITY.md).
 */
const asRoot = process.getuid?.() === 0;
function mount(...args: string[]): void {
  if (asRoot) execFileSync('mount', args, { stdio: 'pipe' });
  else execFileSync('sudo', ['-n', 'mount', ...args], { stdio: 'pipe' });
}
function umount(dir: string): void {
  try {
    execFileSync(asRoot ? 'umount' : 'sudo', asRoot ? [dir] : ['-n', 'umount', dir], { stdio: 'pipe' });
  } catch {
    execFileSync(asRoot ? 'umount' : 'sudo', asRoot ? ['-l', dir] : ['-n', 'umount', '-l', dir], { stdio: 'pipe' });
  }
}

/** Writes zeros into `file` until the file system says ENOSPC. */
function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return written;
}

const env = { GATEWAY_RAW_RETENTION_DAYS: '30', GATEWAY_DEVICE_MAX_RATE_PER_MIN: '0', GATEWAY_FLAP_CONNECTS: '0', GATEWAY_LOG_LEVEL: 'error' };
const mnt = mkdtempSync(join(tmpdir(), 'gw-disk-'));
const dataDir = join(mnt, 'data');
const filler = join(mnt, 'filler');
let gw: ChildGateway | undefined;

beforeAll(() => mount('-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt));
afterAll(async () => {
  await gw?.kill();
  try {
    umount(mnt);
  } finally {
    rmSync(mnt, { recursive: true, force: true });
  }
});

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Keeps QoS 1 load on, reconnecting whenever the gateway closes a connection (a withheld PUBACK). */
function keepPublishing(url: string, device: SeededDevice, acked: Set<number>, base: number) {
  let stop = publishUntilStopped(url, device, acked, { seqBase: base, inflight: 5 });
  let restarts = 0;
  let sizeAtCheck = -1;
  const timer = setInterval(() => {
    // No new ack for a while: the connection was closed by a failed append; reconnect.
    if (acked.size === sizeAtCheck) {
      stop();
      restarts++;
      stop = publishUntilStopped(url, device, acked, { seqBase: base + restarts * 1_000_000, inflight: 5 });
    }
    sizeAtCheck = acked.size;
  }, 400);
  return {
    restarts: () => restarts,
    stop() {
      clearInterval(timer);
      stop();
    },
  };
}

describe('disk full and read-only data dir', () => {
  it('withholds acknowledgements while the disk is full, loses nothing acknowledged, and recovers when space returns', async () => {
    gw = await spawnGateway(dataDir, env);
    const { devices } = await seedContract(gw, { devices: 2 });
    const acked = new Map(devices.map((d) => [d.id, new Set<number>()]));
    const running = gw;
    const loads = devices.map((d, i) => keepPublishing(running.mqttUrl, d, acked.get(d.id)!, (i + 1) * 100_000_000));
    const total = () => [...acked.values()].reduce((n, s) => n + s.size, 0);
    await until(() => total() > 200, 20_000, 'acks before the disk fills');

    fillDisk(filler);
    await until(() => /database or disk is full|SQLITE_FULL/.test(running.output()), 60_000, 'the gateway to report the full disk');
    const ackedWhenFull = total();
    // While full, acks stop (give the load two more seconds); the process stays up and answers HTTP.
    await new Promise((r) => setTimeout(r, 2000));
    const ackedWhileFull = total() - ackedWhenFull;
    expect(running.process.exitCode, 'the gateway survives a full disk').toBeNull();
    expect((await fetch(`${running.httpUrl}/healthz`)).status).toBeLessThan(500);

    unlinkSync(filler);
    const before = total();
    await until(() => total() > before + 200, 30_000, 'ingestion to resume once space returned');
    loads.forEach((l) => l.stop());
    expect(await stopAfterReady(running), 'clean shutdown after recovery').toBe(0);
    gw = undefined;

    const db = new Database(join(dataDir, 'gateway.db'), { readonly: true });
    let ackedTotal = 0;
    try {
      expect(storeViolations(db)).toEqual([]);
      for (const d of devices) {
        ackedTotal += acked.get(d.id)!.size;
        expect(ackedButMissing(db, d.id, acked.get(d.id)!), `acknowledged but lost for ${d.id}`).toEqual([]);
        expect(countedHeartbeats(db, d.id)).toBe(storedSeqs(db, d.id).size);
      }
    } finally {
      db.close();
    }
    figure('disk full', { ackedTotal, ackedWhileFullFor2s: ackedWhileFull, reconnects: loads.reduce((n, l) => n + l.restarts(), 0) });
  }, 180_000);

  it('refuses to start on a full disk, naming the data dir, and starts once space returns', async () => {
    const fresh = join(mnt, 'fresh');
    fillDisk(filler);
    try {
      await expect(spawnGateway(fresh, env)).rejects.toThrow(new RegExp(`GATEWAY_DATA_DIR=${fresh}`));
    } finally {
      unlinkSync(filler);
    }
    gw = await spawnGateway(fresh, env);
    const code = await stopAfterReady(gw);
    expect(code, `exit code (signal ${gw.process.signalCode}); output:\n${gw.output()}`).toBe(0);
    gw = undefined;
  }, 120_000);

  it('refuses to start on a read-only data dir, naming it, with the data intact afterwards', async () => {
    mount('-o', 'remount,ro', mnt);
    try {
      await expect(spawnGateway(dataDir, env)).rejects.toThrow(new RegExp(`GATEWAY_DATA_DIR=${dataDir}`));
      await expect(spawnGateway(join(mnt, 'never-created'), env)).rejects.toThrow(/GATEWAY_DATA_DIR=/);
    } finally {
      mount('-o', 'remount,rw', mnt);
    }
    gw = await spawnGateway(dataDir, env);
    expect(await stopAfterReady(gw)).toBe(0);
    gw = undefined;
    const db = new Database(join(dataDir, 'gateway.db'), { readonly: true });
    try {
      expect(storeViolations(db)).toEqual([]);
    } finally {
      db.close();
    }
  }, 120_000);
});
