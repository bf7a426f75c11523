import { DAY_MS, HOUR_MS, MINUTE_MS, shanghaiDayStartOf, shanghaiWeekday } from '../src/time/shanghai.js';
import { hardwareSchedule, oneProcessSchedule } from './careful.js';
import type { FleetSpec } from './scenario.js';

/**
 * Device behaviour as pure schedules: a fleet spec, a seed and a time span in, the device's
 * actions (connect, heartbeat, disconnect) out, in time order. No I/O, no clock: the virtual
 * and the real-time drivers play the same schedules, so a seed reproduces a run exactly.
 */

export const SECOND_MS = 1000;

export type DeviceStatus = 'running' | 'idle' | 'fault';

export type DeviceAction =
  | { at: number; kind: 'connect' }
  | { at: number; kind: 'disconnect' }
  | {
      at: number;
      kind: 'heartbeat';
      seq: number;
      /** The device's own timestamp (epoch ms). */
      ts: number;
      status: DeviceStatus;
      metrics: { spindleRpm: number; powerKw: number };
      /** A re-send of an earlier heartbeat (the replay profile); the gateway should drop it. */
      replay?: true;
    };

export type HeartbeatAction = Extract<DeviceAction, { kind: 'heartbeat' }>;

// ── seeded randomness ────────────────────────────────────────────────────────────────────

/** mulberry32: a tiny, fast 32-bit PRNG; good enough for schedules, fully reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a over the parts: derives independent seeds for fleets and devices from one scenario seed. */
export function deriveSeed(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// ── calendar (Asia/Shanghai) ─────────────────────────────────────────────────────────────


function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** On-periods [from, to) of a fleet between start and end: shifts on their weekdays, else one period. */
export function onPeriods(fleet: Pick<FleetSpec, 'shift'>, start: number, end: number): Array<[number, number]> {
  if (!fleet.shift) return start < end ? [[start, end]] : [];
  const from = minutesOf(fleet.shift.from) * MINUTE_MS;
  let to = minutesOf(fleet.shift.to) * MINUTE_MS;
  if (to <= from) to += DAY_MS; // crosses midnight
  const periods: Array<[number, number]> = [];
  for (let day = shanghaiDayStartOf(start) - DAY_MS; day < end; day += DAY_MS) {
    if (!fleet.shift.weekdays.includes(shanghaiWeekday(day))) continue;
    const a = Math.max(start, day + from);
    const b = Math.min(end, day + to);
    if (a < b) periods.push([a, b]);
  }
  return periods;
}

// ── schedules ────────────────────────────────────────────────────────────────────────────

export interface ScheduleOptions {
  /** Scenario seed. */
  seed: number;
  /** Stable fleet id within the scenario (e.g. `contract/fleetIndex`). */
  fleetId: string;
  /** Device index within the fleet. */
  deviceIndex: number;
  start: number;
  end: number;
}

/**
 * The actions of one device, in time order (ties keep emission order). Honest devices draw
 * their phase and jitter from their own stream, so neighbours change from heartbeat to
 * heartbeat; a lock-step fleet draws timing from one stream shared by all its devices — one
 * program with one timer posing as many devices.
 */
export function* deviceSchedule(fleet: FleetSpec, o: ScheduleOptions): Generator<DeviceAction> {
  if (fleet.profile === 'hardware') return yield* hardwareSchedule(fleet, o);
  if (fleet.profile === 'one-process') return yield* oneProcessSchedule(fleet, o);
  const own = mulberry32(deriveSeed(o.seed, o.fleetId, o.deviceIndex));
  const timing = fleet.profile === 'lockstep' ? mulberry32(deriveSeed(o.seed, o.fleetId, 'timer')) : own;
  const machine = createMachine(own);
  const end = fleet.profile === 'dead-after' ? Math.min(o.end, o.start + Math.round(fleet.deadAfterDays * DAY_MS)) : o.end;
  let seq = 0;

  if (fleet.profile === 'burst') {
    yield* burstSchedule(fleet, o.start, end, own, () => seq++, machine);
    return;
  }

  const intervalMs = fleet.intervalSec * SECOND_MS;
  const jitterMs = fleet.jitterSec * SECOND_MS;
  const skewMs = fleet.profile === 'clock-skew' ? fleet.skewSec * SECOND_MS : 0;
  const periods = onPeriods(fleet, o.start, end);
  const recent: HeartbeatAction[] = []; // this session's heartbeats, for the replay profile
  let sent = 0;
  let connected = false;

  for (let p = 0; p < periods.length; p++) {
    const [from, to] = periods[p]!;
    const last = p === periods.length - 1;
    const actions: DeviceAction[] = [];
    // Power-on: the connection comes up within the first interval, the first heartbeat after it.
    const connectAt = from + Math.floor(timing() * Math.min(intervalMs, to - from));
    if (!connected) {
      actions.push({ at: connectAt, kind: 'connect' });
      connected = true;
      recent.length = 0;
    }
    const outages = fleet.profile === 'flaky' ? outageWindows(fleet, connectAt, to, own) : [];
    let t = connectAt + Math.floor(timing() * intervalMs);
    let o = 0;
    while (t < to) {
      while (o < outages.length && outages[o]!.reconnectAt <= t) {
        actions.push({ at: outages[o]!.from, kind: 'disconnect' }, { at: outages[o]!.reconnectAt, kind: 'connect' });
        o++;
      }
      const down = o < outages.length && outages[o]!.from <= t;
      if (!down) {
        const hb: HeartbeatAction = { at: t, kind: 'heartbeat', seq: seq++, ts: t + skewMs + Math.round((own() - 0.5) * 200), ...machine() };
        actions.push(hb);
        sent++;
        if (fleet.profile === 'replay') {
          const old = recent[recent.length - fleet.replay.depth];
          if (sent % fleet.replay.every === 0 && old) actions.push({ ...old, at: t + 1, replay: true });
          recent.push(hb);
          if (recent.length > fleet.replay.depth) recent.shift();
        }
      }
      t += intervalMs + Math.round((timing() * 2 - 1) * jitterMs);
      if (t <= actions[actions.length - 1]!.at) t = actions[actions.length - 1]!.at + 1;
    }
    for (; o < outages.length; o++) {
      const out = outages[o]!;
      if (out.from >= to) break;
      actions.push({ at: out.from, kind: 'disconnect' });
      if (out.reconnectAt < to) actions.push({ at: out.reconnectAt, kind: 'connect' });
      else connected = false;
    }
    if (connected && (!fleet.stayConnected || last)) {
      actions.push({ at: to, kind: 'disconnect' });
      connected = false;
    }
    // Outage reconnects and replays interleave with heartbeats: sort by time (stable).
    actions.sort((a, b) => a.at - b.at);
    yield* actions;
    if (!connected) recent.length = 0;
  }
}

interface Outage {
  from: number;
  to: number;
  /** First back-off retry at or after `to`: when the connection is up again. */
  reconnectAt: number;
}

/** Random network outages within [from, to), merged, each ending at the first retry after the network returns. */
export function outageWindows(fleet: Pick<FleetSpec, 'outages'>, from: number, to: number, rand: () => number): Outage[] {
  const spec = fleet.outages;
  const expected = (spec.perDay * (to - from)) / DAY_MS;
  const count = Math.floor(expected) + (rand() < expected - Math.floor(expected) ? 1 : 0);
  const raw = Array.from({ length: count }, () => {
    const start = from + Math.floor(rand() * (to - from));
    const minutes = spec.minMinutes + rand() * (spec.maxMinutes - spec.minMinutes);
    return { from: start, to: start + Math.round(minutes * MINUTE_MS) };
  }).sort((a, b) => a.from - b.from);
  const merged: Outage[] = [];
  for (const w of raw) {
    const prev = merged[merged.length - 1];
    if (prev && w.from <= prev.reconnectAt) {
      prev.to = Math.max(prev.to, w.to);
      prev.reconnectAt = reconnectTime(prev.from, prev.to, spec);
    } else merged.push({ ...w, reconnectAt: reconnectTime(w.from, w.to, spec) });
  }
  return merged;
}

/** Exponential back-off from the moment the connection dropped: 1 s, 2 s, 4 s … capped. */
export function reconnectTime(droppedAt: number, networkBackAt: number, spec: { backoffInitialSec: number; backoffMaxSec: number }): number {
  let at = droppedAt;
  let delay = spec.backoffInitialSec * SECOND_MS;
  while (at < networkBackAt) {
    at += delay;
    delay = Math.min(delay * 2, spec.backoffMaxSec * SECOND_MS);
  }
  return at;
}

function* burstSchedule(
  fleet: FleetSpec,
  start: number,
  end: number,
  rand: () => number,
  nextSeq: () => number,
  machine: () => Pick<HeartbeatAction, 'status' | 'metrics'>,
): Generator<DeviceAction> {
  // Each device picks its own minute near `atMinute`, on a minute boundary, so a burst stays within one minute.
  const minute = fleet.burst.atMinute + Math.floor(rand() * 60);
  let at = shanghaiDayStartOf(start) + minute * MINUTE_MS;
  while (at < start) at += DAY_MS;
  while (at + MINUTE_MS <= end) {
    yield { at, kind: 'connect' };
    for (let k = 0; k < fleet.burst.heartbeats; k++) {
      const t = at + k * SECOND_MS;
      yield { at: t, kind: 'heartbeat', seq: nextSeq(), ts: t, ...machine() };
    }
    yield { at: at + MINUTE_MS - 1, kind: 'disconnect' };
    if (fleet.burst.everyHours <= 0) return;
    at += Math.round(fleet.burst.everyHours * HOUR_MS);
  }
}

/** Plausible machine-tool telemetry: a spindle that mostly runs, sometimes idles, rarely faults. */
function createMachine(rand: () => number): () => Pick<HeartbeatAction, 'status' | 'metrics'> {
  const ratedRpm = 800 + Math.round(rand() * 2400);
  const ratedKw = 5 + Math.round(rand() * 250) / 10;
  return () => {
    const r = rand();
    if (r < 0.01) return { status: 'fault', metrics: { spindleRpm: 0, powerKw: round1(ratedKw * 0.05) } };
    if (r < 0.15) return { status: 'idle', metrics: { spindleRpm: 0, powerKw: round1(ratedKw * (0.08 + rand() * 0.05)) } };
    const load = 0.6 + rand() * 0.4;
    return { status: 'running', metrics: { spindleRpm: Math.round(ratedRpm * load), powerKw: round1(ratedKw * load) } };
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** A loopback source address (127.0.0.0/8) for the n-th source; Linux binds any of them on `lo`. */
export function loopbackAddress(n: number): string {
  const last = 1 + (n % 254);
  const mid = Math.floor(n / 254) % 256;
  const second = 1 + (Math.floor(n / 254 / 256) % 254);
  return `127.${second}.${mid}.${last}`;
}
