import type Database from 'better-sqlite3';
import mqtt from 'mqtt';
import type { ChildGateway } from './child-gateway.js';
import { seedContract, type SeededDevice } from './seed.js';
import { decodeDayCounters, viewOf } from '../../src/telemetry/sqlite/day-counters.js';

/**
 * QoS 1 load for the kill tests (test/integration/durability.test.ts, reliability/*):
 * publishes heartbeats as fast as PUBACKs come back, `inflight` at a time, and records every
 * acknowledged seq. Seqs are `seqBase + round × 100 + k`, so runs with different bases never
 * collide. Returns a stop function.
 */
export function publishUntilStopped(
  url: string,
  device: SeededDevice,
  acked: Set<number>,
  options: { seqBase?: number; inflight?: number; reconnectMs?: number } = {},
) {
  const seqBase = options.seqBase ?? 0;
  const inflight = options.inflight ?? 20;
  // `reconnectMs`: come back after the gateway closed the connection (it does when a heartbeat cannot be stored).
  const client = mqtt.connect(url, { clientId: device.id, username: device.id, password: device.token, reconnectPeriod: options.reconnectMs ?? 0 });
  let round = 0;
  let stopped = false;
  client.on('error', () => undefined);
  client.on('connect', async () => {
    while (!stopped && client.connected) {
      const r = ++round;
      await Promise.all(
        Array.from({ length: inflight }, (_, k) => {
          const seq = seqBase + r * 100 + k;
          return client.publishAsync(`v1/devices/${device.id}/heartbeat`, JSON.stringify({ seq }), { qos: 1 }).then(
            () => acked.add(seq),
            () => undefined,
          );
        }),
      );
    }
  });
  return () => {
    stopped = true;
    client.end(true);
  };
}

/** Raw heartbeat seqs stored for a device (needs GATEWAY_RAW_RETENTION_DAYS > 0). */
export function storedSeqs(db: Database.Database, deviceId: string): Set<number> {
  const rows = db
    .prepare('SELECT h.seq FROM telemetry_heartbeat h JOIN telemetry_device d ON d.device_key = h.device_key WHERE d.device_id = ?')
    .all(deviceId) as { seq: number }[];
  return new Set(rows.map((r) => r.seq));
}

/** Sum of the per-day heartbeat counters of a device (read from the stored counter records). */
export function countedHeartbeats(db: Database.Database, deviceId: string): number {
  const rows = db
    .prepare('SELECT dd.counters FROM telemetry_device_day dd JOIN telemetry_device d ON d.device_key = dd.device_key WHERE d.device_id = ?')
    .all(deviceId) as { counters: Uint8Array }[];
  return rows.reduce((n, r) => n + decodeDayCounters(viewOf(r.counters)).heartbeats, 0);
}

/** Acknowledged seqs that are not in the store: must always be empty. */
export function ackedButMissing(db: Database.Database, deviceId: string, acked: ReadonlySet<number>): number[] {
  const stored = storedSeqs(db, deviceId);
  return [...acked].filter((s) => !stored.has(s));
}

/**
 * SIGTERM once the child is surely past start-up. src/main.ts prints "gateway ready" a moment
 * before it installs its signal handlers, so a SIGTERM sent on the ready line can hit the
 * default handler (exit by signal, no flush). One HTTP round trip closes that window.
 */
export async function stopAfterReady(gw: { httpUrl: string; stop(): Promise<number | null> }): Promise<number | null> {
  await fetch(`${gw.httpUrl}/healthz`).then((r) => r.arrayBuffer()).catch(() => undefined);
  return gw.stop();
}

/**
 * Seeds a contract of `devices` devices on a child gateway, publishes QoS 1 heartbeats from each
 * for `loadMs`, then SIGKILLs the gateway mid-load. Returns the contract and, per device, the
 * seqs whose PUBACK arrived — every one of them must be found stored after a restart.
 */
export async function ackedAcrossKill(
  gateway: ChildGateway,
  options: { devices: number; loadMs: number },
): Promise<{ contractId: string; devices: SeededDevice[]; acked: Map<string, Set<number>> }> {
  const { contractId, devices } = await seedContract(gateway, { devices: options.devices });
  const acked = new Map(devices.map((d) => [d.id, new Set<number>()]));
  const stops = devices.map((d) => publishUntilStopped(gateway.mqttUrl, d, acked.get(d.id)!));
  await new Promise((r) => setTimeout(r, options.loadMs));
  await gateway.kill();
  stops.forEach((stop) => stop());
  return { contractId, devices, acked };
}
