import type { Clock } from '../src/clock.js';
import type { Metrics } from '../src/metrics.js';

/**
 * Connection flood control (SECURITY.md "Outside attacker", "Leaked device token"), all on the
 * injected Clock so tests drive it with a VirtualClock (the per-device heartbeat rate is
 * src/ingest/heartbeat-rate.ts, a step of the heartbeat admission). Whole factories sit behind one NAT address and a
 * supplier platform's bridge speaks for thousands of devices, so nothing here may lock out a
 * device that holds its token:
 *
 * - per remote address: a token bucket of accepted TCP connections (`connectsPerAddress` per
 *   `connectWindowMs`, `connectBurst` back to back). An empty bucket closes the connection at
 *   accept — no ban — so a reconnect storm of honest devices is spread out and converges.
 * - per remote address: failed authentications. More than `authFailuresPerAddress` within
 *   `authFailureWindowMs` ban the address for `banMs`, and the ban only ever refuses CONNECTs
 *   whose credentials are wrong: a correct token is still accepted from a banned address. What
 *   the ban buys is quiet: a banned address's failures are counted, not logged or stored.
 * - per device: `auth-failed` evidence rows, at most `authFailedEvidencePerMin` per device and
 *   minute; the rest are counted (`auth-failed-unrecorded`), not stored one by one.
 * - per device (flapping): more than `flapConnects` *successful* CONNECTs of one device id
 *   within `flapWindowMs` bans the device id for `banMs`. Only authenticated connects count,
 *   so nobody without the token can get an honest device banned.
 *
 * Across nodes (README "Limits across nodes"): everything here is counted per process. HAProxy's
 * `balance source` sends every connection of one address to one node, so a node's count for an
 * address is the address's whole count, and so is a device's CONNECT count while it keeps its
 * address. A device that changes address may land on another node and split its count: with N
 * nodes it needs at most N × `flapConnects` CONNECTs in a window to be banned instead of
 * `flapConnects` — bounded, and each of those CONNECTs is an authenticated one. Counting every
 * CONNECT in PostgreSQL would buy the exact count for a write per CONNECT (a connect storm of
 * 10,000 devices: 10,000 writes); the ban, which is what has to hold everywhere, is shared
 * instead: the node that bans writes it to the registry (`onBan`), the others learn it from the
 * CONNECT look-up they make anyway and keep it here (`adoptDeviceBan`).
 */
export interface FloodLimits {
  /** Accepted TCP connections per address per window (refill rate); 0 = unlimited. */
  connectsPerAddress: number;
  connectWindowMs: number;
  /** Connections an address may open back to back before the rate applies. */
  connectBurst: number;
  /** Failed authentications per address per window before the address is banned; 0 = never. */
  authFailuresPerAddress: number;
  authFailureWindowMs: number;
  /** `auth-failed` evidence rows stored per device per minute; the excess is only counted. */
  authFailedEvidencePerMin: number;
  /** Successful CONNECTs per device id per window; 0 = unlimited. */
  flapConnects: number;
  flapWindowMs: number;
  banMs: number;
}

export type BanReason = 'auth-failures' | 'flapping';

export interface FloodControl {
  /** Called at TCP accept: takes a token from the address's bucket; false = close it now (no ban). */
  admitAddress(source: string): boolean;
  /** True while the address is banned for failed authentications (a correct token still gets in). */
  addressBanned(source: string): boolean;
  /** Called for every failed authentication; may start a ban of the address. */
  recordAuthFailure(source: string): void;
  /** Called before storing an `auth-failed` row for a device: false once its per-minute cap is reached. */
  admitAuthFailedEvidence(deviceId: string): boolean;
  /** Called before authentication: true while the device id is banned for flapping. */
  deviceBanned(deviceId: string): boolean;
  /** Called after a successful authentication; may start a ban that applies to the next CONNECT. */
  recordDeviceConnect(deviceId: string): void;
  /**
   * A ban another node decided (read from the shared registry): this node refuses the device until
   * `until` without asking again. Not counted nor reported through `onBan`: its node did that.
   */
  adoptDeviceBan(deviceId: string, until: number): void;
  /** Addresses and device ids currently banned, with the ban's end (epoch ms). */
  bans(): { address: Map<string, number>; device: Map<string, number> };
}

/** Entries kept per table before stale ones are swept (bounds memory under address spraying). */
const SWEEP_AT = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

interface Window {
  /** Event times inside the window, oldest first. */
  times: number[];
  bannedUntil: number;
}

interface MinuteCount {
  minute: number;
  count: number;
}

/**
 * Takes one token from `key`'s bucket, refilled at `perMs` up to `burst`; false when empty.
 * A clock that steps backwards (a VirtualClock set back) refills nothing.
 */
function takeToken(table: Map<string, Bucket>, key: string, now: number, perMs: number, burst: number): boolean {
  let b = table.get(key);
  if (b === undefined) {
    if (table.size >= SWEEP_AT) sweepBuckets(table, now, perMs, burst);
    table.set(key, (b = { tokens: burst, at: now }));
  }
  b.tokens = Math.min(burst, b.tokens + Math.max(0, now - b.at) * perMs);
  b.at = Math.max(b.at, now);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

/** A full bucket is the same as no bucket: drop those, then the oldest down to half the cap. */
function sweepBuckets(table: Map<string, Bucket>, now: number, perMs: number, burst: number): void {
  for (const [key, b] of table) if (b.tokens + Math.max(0, now - b.at) * perMs >= burst) table.delete(key);
  for (const key of table.keys()) {
    if (table.size <= SWEEP_AT / 2) return;
    table.delete(key);
  }
}

export function createFloodControl(deps: {
  clock: Clock;
  metrics: Pick<Metrics, 'bans'>;
  limits: Readonly<FloodLimits>;
  /** Told of every ban as it starts (the gateway records it in the audit log). */
  onBan?: (reason: BanReason, subject: string, until: number) => void;
}): FloodControl {
  const { clock, metrics, limits } = deps;
  const connectBuckets = new Map<string, Bucket>();
  const authFailures = new Map<string, Window>();
  const devices = new Map<string, Window>();
  const evidenceMinutes = new Map<string, MinuteCount>();
  const connectPerMs = limits.connectsPerAddress / limits.connectWindowMs;
  const connectBurst = Math.max(1, limits.connectBurst);

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
      if (limits.connectsPerAddress <= 0) return true;
      return takeToken(connectBuckets, source, clock.now(), connectPerMs, connectBurst);
    },

    addressBanned(source) {
      return banned(authFailures, source, clock.now());
    },

    recordAuthFailure(source) {
      if (limits.authFailuresPerAddress <= 0) return;
      const now = clock.now();
      // A banned address's failures are not counted again: the ban is not extended by them.
      if (banned(authFailures, source, now)) return;
      countIn(authFailures, source, now, limits.authFailuresPerAddress, limits.authFailureWindowMs, 'auth-failures');
    },

    admitAuthFailedEvidence(deviceId) {
      const minute = Math.floor(clock.now() / 60_000);
      let m = evidenceMinutes.get(deviceId);
      if (m === undefined || m.minute !== minute) {
        if (m === undefined && evidenceMinutes.size >= SWEEP_AT) {
          for (const [key, old] of evidenceMinutes) if (old.minute !== minute) evidenceMinutes.delete(key);
        }
        evidenceMinutes.set(deviceId, (m = { minute, count: 0 }));
      }
      if (m.count >= limits.authFailedEvidencePerMin) return false;
      m.count++;
      return true;
    },

    deviceBanned(deviceId) {
      return banned(devices, deviceId, clock.now());
    },

    recordDeviceConnect(deviceId) {
      if (limits.flapConnects <= 0) return;
      countIn(devices, deviceId, clock.now(), limits.flapConnects, limits.flapWindowMs, 'flapping');
    },

    adoptDeviceBan(deviceId, until) {
      let w = devices.get(deviceId);
      if (w === undefined) {
        if (devices.size >= SWEEP_AT) sweep(devices, clock.now(), limits.flapWindowMs);
        devices.set(deviceId, (w = { times: [], bannedUntil: 0 }));
      }
      w.bannedUntil = Math.max(w.bannedUntil, until);
    },

    bans() {
      const now = clock.now();
      const live = (table: Map<string, Window>) =>
        new Map([...table].filter(([, w]) => w.bannedUntil > now).map(([k, w]) => [k, w.bannedUntil] as const));
      return { address: live(authFailures), device: live(devices) };
    },
  };
}
