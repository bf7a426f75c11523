import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnGateway } from '../support/child-gateway.js';
import { ackedAcrossKill, countedHeartbeats, stopAfterReady, storedSeqs } from '../support/qos1-load.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gw-durable-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('durability', () => {
  it('keeps every acknowledged QoS 1 heartbeat across a SIGKILL of the gateway process', async () => {
    // Flood control off: a rate-limited heartbeat is acknowledged but not stored (SECURITY.md).
    const env = { GATEWAY_RAW_RETENTION_DAYS: '30', GATEWAY_DEVICE_MAX_RATE_PER_MIN: '0' };
    const { devices, acked } = await ackedAcrossKill(await spawnGateway(dataDir, env), { devices: 4, loadMs: 2500 });

    const total = [...acked.values()].reduce((n, s) => n + s.size, 0);
    expect(total).toBeGreaterThan(100);

    // Restart on the same data dir: it must open clean and serve.
    const second = await spawnGateway(dataDir, env);
    expect(await stopAfterReady(second), 'SIGTERM shuts down cleanly').toBe(0);

    const db = new Database(join(dataDir, 'gateway.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      for (const device of devices) {
        const stored = storedSeqs(db, device.id);
        const missing = [...acked.get(device.id)!].filter((s) => !stored.has(s));
        expect(missing, `acknowledged but lost for ${device.id}`).toEqual([]);
        expect(countedHeartbeats(db, device.id)).toBe(stored.size);
      }
    } finally {
      db.close();
    }
  });
});
