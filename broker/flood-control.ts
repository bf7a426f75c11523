import type { Clock } from '../src/clock.js';
import type { Metrics } from '../src/metrics.js';

/**
 * Connection flood control (SECURITY.md "Outside attacker", "Leaked device token"), all on the
 * injected Clock so tests drive it with a VirtualClock (the per-device heartbeat rate is
 * src/ingest/heartbeat-rate.ts, a step of the heartbeat admission):
 *
 * - per remote address: a sliding window of TCP connection attempts; more than
 *   `connectsPerAddress` within `connectWindowMs` bans the address for `banMs`.
 * - per device (flapping): more than `flapConnects` *successful* CONNECTs of one device id
 *   within `flapWindowMs` bans the device id for `banMs`. Only authenticated connects count,
 *   so nobody without the token can get an honest device banned.
 */
export interface FloodLimits {
  /** TCP connections per address per window; 0 = unlimited. */
  connectsPerAddress: number;
  connectWindowMs: number;
  /** Successful CONNECTs per device id per window; 0 = unlimited. */
  flapConnects: number;
  flapWindowMs: number;
  banMs: number;
}

export type BanReason = 'connection-rate' | 'flapping';

export interface FloodControl {
  /** Called at TCP accept: counts the attempt, false when the address is (or just became) banned. */
  admitAddress(source: string): boolean;
  /** Called before authentication: true while the device id is banned for flapping. */
  deviceBanned(deviceId: string): boolean;
  /** Called after a successful authentication; may start a ban that applies to the next CONNECT. */
  recordDeviceConnect(deviceId: string): void;
  /** Addresses and device ids currently banned, with the ban's end (epoch ms). */
  bans(): { address: Map<string, number>; device: Map<string, number> };
}

/** Entries kept per table before expired ones are swept (bounds memory under address spraying). */
const SWEEP_AT = 10_000;

interface Window {
  /** Attempt times inside the window, oldest first. */
  times: number[];
  bannedUntil: number;
}

export function createFloodControl(deps: {
  clock: Clock;
  metrics: Pick<Metrics, 'bans'>;
  limits: Readonly<FloodLimits>;
  /** Told of every ban as it starts (the gateway records it in the audit log). */
  onBan?: (reason: BanReason, subject: string, until: number) => void;
}): FloodControl {
  const { clock, metrics, limits } = deps;
  const addresses = new Map<string, Window>();
  const devices = new Map<string, Window>();

  /** Counts one event in a sliding window; returns true when it crosses the limit (ban starts). */
  function countIn(table: Map<string, Window>, key: string, now: number, max: number, windowMs: number, reason: BanReason): boolean {
    let w = table.get(key);
    if (w === undefined) {
      if (table.size >= SWEEP_AT) sweep(table, now, windowMs);
      table.set(key, (w = { times: [], bannedUntil: 0 }));
    }
    const horizon = now - windowMs;
    let drop = 0;
    while (drop < w.times.length && w.times[drop]! <= horizon) drop++;
    if (drop > 0) w.times.splice(0, drop);
    w.times.push(now);
    if (w.times.length <= max) return false;
    w.times.length = 0;
    w.bannedUntil = now + limits.banMs;
    metrics.bans.inc({ reason });
    deps.onBan?.(reason, key, w.bannedUntil);
    return true;
  }

  function banned(table: Map<string, Window>, key: string, now: number): boolean {
    const w = table.get(key);
    return w !== undefined && w.bannedUntil > now;
  }

  /**
   * At the cap: drop entries with nothing left to remember; if the table is still more than
   * half full (addresses sprayed faster than the window forgets them), drop the oldest
   * unbanned entries, then the oldest of all, down to half. Amortised O(1) per insert.
   */
  function sweep(table: Map<string, Window>, now: number, windowMs: number): void {
    for (const [key, w] of table) {
      if (w.bannedUntil <= now && (w.times.length === 0 || w.times[w.times.length - 1]! <= now - windowMs)) table.delete(key);
    }
    const target = SWEEP_AT / 2;
    for (const [key, w] of table) {
      if (table.size <= target) return;
      if (w.bannedUntil <= now) table.delete(key);
    }
    for (const key of table.keys()) {
      if (table.size <= target) return;
      table.delete(key);
    }
  }

  return {
    admitAddress(source) {
      const now = clock.now();
      if (banned(addresses, source, now)) return false;
      if (limits.connectsPerAddress <= 0) return true;
      return !countIn(addresses, source, now, limits.connectsPerAddress, limits.connectWindowMs, 'connection-rate');
    },

    deviceBanned(deviceId) {
      return banned(devices, deviceId, clock.now());
    },

    recordDeviceConnect(deviceId) {
      if (limits.flapConnects <= 0) return;
      countIn(devices, deviceId, clock.now(), limits.flapConnects, limits.flapWindowMs, 'flapping');
    },

    bans() {
      const now = clock.now();
      const live = (table: Map<string, Window>) =>
        new Map([...table].filter(([, w]) => w.bannedUntil > now).map(([k, w]) => [k, w.bannedUntil] as const));
      return { address: live(addresses), device: live(devices) };
    },
  };
}
