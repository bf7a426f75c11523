/**
 * A fleet of real mqtt.js devices for the cluster fail-over tests (issue 17, point 6): each
 * device connects to HAProxy from its own loopback address, so that `balance source` spreads
 * the fleet over the nodes as it spreads a province's factories, and publishes one QoS 1
 * heartbeat every `periodMs` while it is connected. mqtt.js reconnects with its default period
 * (1 s) and resends what was in flight; every PUBACK is recorded with its time, and a sampler
 * counts the connected devices on the client side for the whole run.
 */
import net from 'node:net';
import mqtt from 'mqtt';
import pg from 'pg';
import type { SeededDevice } from './seed.js';

export interface FleetDevice {
  id: string;
  /** The loopback address it connects from (HAProxy hashes it to a node). */
  address: string;
  /** Seqs whose PUBACK arrived: every one must be stored. */
  acked: Set<number>;
  /** performance.now() of each PUBACK. */
  ackTimes: number[];
  /** performance.now() of each loss of its connection. */
  closes: number[];
  client: mqtt.MqttClient;
}

export interface Fleet {
  devices: FleetDevice[];
  /** Devices whose client is connected now. */
  connected(): number;
  /** The fewest devices connected at once since `resetMinimum()` (sampled every 10 ms). */
  minimumConnected(): number;
  resetMinimum(): void;
  /** Resolves once every device is connected (after `timeoutMs`, rejects saying how many are not). */
  allConnected(timeoutMs?: number): Promise<void>;
  /** Stops publishing, waits up to `drainMs` for the PUBACKs still in flight, then closes every client (once, however often called). */
  stop(drainMs?: number): Promise<void>;
  /** PUBACKed heartbeats, all devices together. */
  ackedCount(): number;
}

/** 127.10.x.y: outside 127.0.0.1 (HAProxy's own address), one per device. */
export function deviceAddress(i: number): string {
  return `127.10.${Math.floor(i / 200)}.${10 + (i % 200)}`;
}

export function startFleet(mqttPort: number, seeded: readonly SeededDevice[], options: { periodMs: number }): Fleet {
  let publishing = true;
  const inFlight = new Set<Promise<unknown>>();
  const devices: FleetDevice[] = seeded.map((d, i) => {
    const address = deviceAddress(i);
    const client = new mqtt.MqttClient(() => net.createConnection({ host: '127.0.0.1', port: mqttPort, localAddress: address }), {
      clientId: d.id,
      username: d.id,
      password: d.token,
      connectTimeout: 5_000,
      // "Server unavailable" (the registry's database away) is a reason to come back, as a
      // device in the field does, not to give up (mqtt.js' default).
      reconnectOnConnackError: true,
    });
    const device: FleetDevice = { id: d.id, address, acked: new Set(), ackTimes: [], closes: [], client };
    client.on('error', () => undefined);
    client.on('close', () => device.closes.push(performance.now()));
    return device;
  });

  let seq = 0;
  const timers = devices.map((device) => {
    const tick = () => {
      if (!publishing || !device.client.connected) return;
      const s = ++seq;
      const p = device.client.publishAsync(`v1/devices/${device.id}/heartbeat`, JSON.stringify({ seq: s }), { qos: 1 }).then(
        () => {
          device.acked.add(s);
          device.ackTimes.push(performance.now());
        },
        () => undefined,
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    // Spread over the period, so the fleet does not publish in lock-step.
    let interval: NodeJS.Timeout | undefined;
    const start = setTimeout(() => {
      tick();
      interval = setInterval(tick, options.periodMs);
    }, Math.random() * options.periodMs);
    return () => {
      clearTimeout(start);
      clearInterval(interval);
    };
  });

  const connected = () => devices.reduce((n, d) => n + (d.client.connected ? 1 : 0), 0);
  let minimum = Number.POSITIVE_INFINITY;
  const sampler = setInterval(() => (minimum = Math.min(minimum, connected())), 10);
  let stopping: Promise<void> | undefined;

  return {
    devices,
    connected,
    minimumConnected: () => Math.min(minimum, connected()),
    resetMinimum: () => (minimum = Number.POSITIVE_INFINITY),
    async allConnected(timeoutMs = 30_000) {
      for (let waited = 0; connected() < devices.length; waited += 50) {
        if (waited >= timeoutMs) throw new Error(`${devices.length - connected()} of ${devices.length} devices not connected after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop(drainMs = 5_000) {
      stopping ??= (async () => {
        publishing = false;
        timers.forEach((stop) => stop());
        await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, drainMs))]);
        clearInterval(sampler);
        await Promise.all(devices.map((d) => d.client.endAsync(true)));
      })();
      return stopping;
    },
    ackedCount: () => devices.reduce((n, d) => n + d.acked.size, 0),
  };
}

/**
 * Acknowledged heartbeats not found among the raw rows in PostgreSQL (`telemetry_heartbeat`,
 * kept with GATEWAY_RAW_RETENTION_DAYS > 0), as `device:seq`: must always be empty.
 */
export async function ackedButNotStored(databaseUrl: string, devices: readonly FleetDevice[]): Promise<string[]> {
  const client = new pg.Client(databaseUrl);
  await client.connect();
  try {
    const { rows } = await client.query<{ device_id: string; seq: string }>('SELECT device_id, seq FROM telemetry_heartbeat WHERE device_id = ANY($1)', [
      devices.map((d) => d.id),
    ]);
    const stored = new Set(rows.map((r) => `${r.device_id}:${r.seq}`));
    return devices.flatMap((d) => [...d.acked].map((s) => `${d.id}:${s}`).filter((k) => !stored.has(k)));
  } finally {
    await client.end();
  }
}

/**
 * For the devices that lost their connection at or after `since`: ms from `since` until each
 * published again (its first PUBACK after that loss), sorted; a device that never did counts
 * as Infinity.
 */
export function republishDelays(devices: readonly FleetDevice[], since: number): { affected: number; delays: number[] } {
  const affected = devices.filter((d) => d.closes.some((t) => t >= since));
  const delays = affected.map((d) => {
    const lost = d.closes.find((t) => t >= since)!;
    const again = d.ackTimes.find((t) => t > lost);
    return again === undefined ? Number.POSITIVE_INFINITY : again - since;
  });
  return { affected: affected.length, delays: delays.sort((a, b) => a - b) };
}

/** The value below which `fraction` of the sorted values lie (nearest rank). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}
