import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnGateway } from '../support/child-gateway.js';
import { seedContract, type SeededDevice } from '../support/seed.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gw-durable-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Publishes QoS 1 heartbeats as fast as acks come back; records every acknowledged seq. */
function publishUntilStopped(url: string, device: SeededDevice, acked: Set<number>) {
  const client = mqtt.connect(url, { clientId: device.id, username: device.id, password: device.token, reconnectPeriod: 0 });
  let seq = 0;
  let stopped = false;
  client.on('error', () => undefined);
  client.on('connect', async () => {
    while (!stopped && client.connected) {
      const s = ++seq;
      const inflight = Array.from({ length: 20 }, (_, k) =>
        client.publishAsync(`v1/devices/${device.id}/heartbeat`, JSON.stringify({ seq: s * 100 + k }), { qos: 1 }).then(
          () => acked.add(s * 100 + k),
          () => undefined,
        ),
      );
      await Promise.all(inflight);
    }
  });
  return () => {
    stopped = true;
    client.end(true);
  };
}

describe('durability', () => {
  it('keeps every acknowledged QoS 1 heartbeat across a SIGKILL of the gateway process', async () => {
    const env = { GATEWAY_RAW_RETENTION_DAYS: '30' };
    const first = await spawnGateway(dataDir, env);
    const { devices } = await seedContract(first, { devices: 4 });
    const acked = new Map(devices.map((d) => [d.id, new Set<number>()]));
    const stops = devices.map((d) => publishUntilStopped(first.mqttUrl, d, acked.get(d.id)!));
    await new Promise((r) => setTimeout(r, 2500));
    await first.kill();
    stops.forEach((stop) => stop());

    const total = [...acked.values()].reduce((n, s) => n + s.size, 0);
    expect(total).toBeGreaterThan(100);

    // Restart on the same data dir: it must open clean and serve.
    const second = await spawnGateway(dataDir, env);
    expect(await second.stop(), 'SIGTERM shuts down cleanly').toBe(0);

    const db = new Database(join(dataDir, 'gateway.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const seqsOf = db.prepare(
        `SELECT h.seq FROM telemetry_heartbeat h JOIN telemetry_device d ON d.device_key = h.device_key WHERE d.device_id = ?`,
      );
      const countOf = db.prepare(
        `SELECT sum(heartbeats) AS n FROM telemetry_device_day dd JOIN telemetry_device d ON d.device_key = dd.device_key WHERE d.device_id = ?`,
      );
      for (const device of devices) {
        const stored = new Set((seqsOf.all(device.id) as { seq: number }[]).map((r) => r.seq));
        const missing = [...acked.get(device.id)!].filter((s) => !stored.has(s));
        expect(missing, `acknowledged but lost for ${device.id}`).toEqual([]);
        expect((countOf.get(device.id) as { n: number }).n).toBe(stored.size);
      }
    } finally {
      db.close();
    }
  });
});
