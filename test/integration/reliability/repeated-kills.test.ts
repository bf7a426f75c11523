import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnGateway, type ChildGateway } from '../../support/child-gateway.js';
import { FUZZ_SEED, figure, prng, sized, storeViolations } from '../../support/fuzz.js';
import { ackedButMissing, countedHeartbeats, publishUntilStopped, stopAfterReady, storedSeqs } from '../../support/qos1-load.js';
import { seedContract } from '../../support/seed.js';

/**
 * Crash safety (issue item 4): the real gateway process is SIGKILLed at seeded random points
 * of a QoS 1 load, GW_CRASH_KILLS times (CI 5, soak 25). After every restart the database must
 * open clean (integrity, invariants) and hold every heartbeat that was ever acknowledged;
 * the per-day counters must agree with the raw rows (one transaction writes both).
 * test/integration/durability.test.ts is the single-kill version.
 */
const KILLS = sized('GW_CRASH_KILLS', 5, 25);
const DEVICES = 4;
const dataDir = mkdtempSync(join(tmpdir(), 'gw-kills-'));
const env = {
  GATEWAY_RAW_RETENTION_DAYS: '30',
  // A rate-limited heartbeat is acknowledged but dropped by design (SECURITY.md); not under test here.
  GATEWAY_DEVICE_MAX_RATE_PER_MIN: '0',
  GATEWAY_FLAP_CONNECTS: '0',
};
let gw: ChildGateway | undefined;
afterAll(async () => {
  await gw?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

function inspect(check: (db: Database.Database) => void): void {
  const db = new Database(join(dataDir, 'gateway.db'), { readonly: true });
  try {
    check(db);
  } finally {
    db.close();
  }
}

describe('repeated SIGKILL under QoS 1 load', () => {
  it(`loses no acknowledged heartbeat across ${KILLS} kills at random points`, async () => {
    const random = prng(FUZZ_SEED);
    gw = await spawnGateway(dataDir, env);
    const { devices } = await seedContract(gw, { devices: DEVICES });
    const acked = new Map(devices.map((d) => [d.id, new Set<number>()]));
    const killPointsMs: number[] = [];

    for (let cycle = 1; cycle <= KILLS; cycle++) {
      const running = gw;
      const stops = devices.map((d) => publishUntilStopped(running.mqttUrl, d, acked.get(d.id)!, { seqBase: cycle * 10_000_000 }));
      const killAt = Math.round(200 + random() * 1800);
      killPointsMs.push(killAt);
      await new Promise((r) => setTimeout(r, killAt));
      await running.kill();
      stops.forEach((stop) => stop());

      // Restart on the same data dir: it must start, and the file must be whole.
      gw = await spawnGateway(dataDir, env);
      inspect((db) => {
        expect(storeViolations(db), `after kill ${cycle}`).toEqual([]);
        for (const device of devices) {
          expect(ackedButMissing(db, device.id, acked.get(device.id)!), `kill ${cycle}: acknowledged but lost for ${device.id}`).toEqual([]);
          expect(countedHeartbeats(db, device.id), `kill ${cycle}: counters vs raw rows of ${device.id}`).toBe(storedSeqs(db, device.id).size);
        }
      });
    }
    expect(await stopAfterReady(gw), 'the last restart shuts down cleanly').toBe(0);
    gw = undefined;

    let ackedTotal = 0;
    let found = 0;
    inspect((db) => {
      expect(storeViolations(db)).toEqual([]);
      for (const device of devices) {
        const stored = storedSeqs(db, device.id);
        const mine = acked.get(device.id)!;
        ackedTotal += mine.size;
        found += [...mine].filter((s) => stored.has(s)).length;
      }
    });
    expect(ackedTotal).toBeGreaterThan(KILLS * 50);
    expect(found).toBe(ackedTotal);
    figure('sigkill', { kills: KILLS, survived: KILLS, killPointsMs, heartbeatsAcked: ackedTotal, heartbeatsFound: found });
  }, 600_000);
});
