import { DAY_MS, MINUTE_MS } from '../src/time/shanghai.js';
import type { FleetSpec } from './scenario.js';
import {
  SECOND_MS,
  deriveSeed,
  mulberry32,
  onPeriods,
  reconnectTime,
  type DeviceAction,
  type DeviceStatus,
  type ScheduleOptions,
} from './profiles.js';

/**
 * The two sides of issue 19, as pure schedules like the rest of profiles.ts:
 *
 * - `hardware` — honest devices that behave like separate machines: each has its own crystal
 *   (a rate error of tens of ppm drives both its heartbeat timer and its `ts` clock), its own
 *   network delay, reboots on its own; some keep their clock with NTP (stepped every hour or
 *   so, or slewed to UTC). A fleet behind one NAT (`source: shared`) shares its uplink: short
 *   drops hold heartbeats in TCP until each connection's retransmission timer fires, long drops
 *   end the connections, which the gateway notices on each keep-alive and the devices re-open
 *   on their own back-off.
 * - `one-process` — the careful fraud: one program posing as many devices, each on its own
 *   timer (setTimeout chains with random jitter of hundreds of ms, optionally a per-device
 *   period offset), per-device random-walk metrics, staggered connects and disconnects, `ts`
 *   from the host's clock. What it cannot give its devices is more than one host clock, more
 *   than one event loop (stalls delay every due timer together) or more than one life (a
 *   restart drops every connection in the same instant).
 *
 * Every random choice comes from a stream derived from the scenario seed: per device for what
 * is the device's own, per fleet for what its devices share (the uplink, the host process).
 */

/** Standard normal from two uniforms (Box–Muller). */
function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function exponential(rand: () => number, mean: number): number {
  return -Math.log(Math.max(rand(), 1e-12)) * mean;
}

/** Poisson arrivals with `perDay` mean rate in [from, to). */
function poissonTimes(rand: () => number, perDay: number, from: number, to: number): number[] {
  const times: number[] = [];
  if (perDay <= 0) return times;
  for (let t = from + exponential(rand, DAY_MS / perDay); t < to; t += exponential(rand, DAY_MS / perDay)) times.push(Math.round(t));
  return times;
}

/** Machine-tool telemetry as a mean-reverting random walk of the load, per device. */
export function randomWalkMachine(rand: () => number): () => { status: DeviceStatus; metrics: { spindleRpm: number; powerKw: number } } {
  const ratedRpm = 800 + Math.round(rand() * 2400);
  const ratedKw = 5 + Math.round(rand() * 250) / 10;
  let load = 0.6 + rand() * 0.3;
  let state: DeviceStatus = 'running';
  return () => {
    const r = rand();
    if (state === 'running' && r < 0.03) state = 'idle';
    else if (state !== 'running' && r < 0.3) state = 'running';
    else if (r > 0.999) state = 'fault';
    load = Math.min(1, Math.max(0.3, load + (rand() - 0.5) * 0.08 + (0.75 - load) * 0.02));
    if (state === 'running') return { status: state, metrics: { spindleRpm: Math.round(ratedRpm * load), powerKw: Math.round(ratedKw * load * 10) / 10 } };
    return { status: state, metrics: { spindleRpm: 0, powerKw: Math.round(ratedKw * (state === 'fault' ? 0.05 : 0.1) * 10) / 10 } };
  };
}

/** Orders a device's actions by gateway time (stable) and keeps every time strictly after the one before. */
function ordered(actions: DeviceAction[]): DeviceAction[] {
  actions.sort((a, b) => a.at - b.at);
  for (let i = 1; i < actions.length; i++) if (actions[i]!.at <= actions[i - 1]!.at) actions[i] = { ...actions[i]!, at: actions[i - 1]!.at + 1 };
  return actions;
}

// ── honest: separate hardware ─────────────────────────────────────────────────────────────

type NtpMode = 'none' | 'step' | 'slew';

/** A device's time-of-day clock: its own crystal, optionally stepped or slewed by NTP. Queried with non-decreasing true times. */
function deviceClock(mode: NtpMode, ppm: number, start: number, rand: () => number, hw: FleetSpec['hardware']): (t: number) => number {
  if (mode === 'slew') return (t) => t + gaussian(rand) * 2; // disciplined to UTC within a few ms
  if (mode === 'none') {
    const offset = (rand() * 2 - 1) * hw.initialOffsetSec * SECOND_MS;
    return (t) => t + offset + (ppm * (t - start)) / 1e6;
  }
  // SNTP: the clock is stepped to the server's time (with its own error) every poll, and runs on its crystal between.
  const poll = () => hw.ntpPollMinutes * MINUTE_MS * (0.5 + rand());
  let syncedAt = start - Math.floor(rand() * poll());
  let error = gaussian(rand) * hw.ntpStepErrorMs;
  let next = syncedAt + poll();
  return (t) => {
    while (t >= next) {
      syncedAt = next;
      error = gaussian(rand) * hw.ntpStepErrorMs;
      next = syncedAt + poll();
    }
    return t + error + (ppm * (t - syncedAt)) / 1e6;
  };
}

interface UplinkOutage {
  from: number;
  to: number;
}

/** The shared uplink's outages over the run (the same for every device of the fleet). */
function uplinkOutages(fleet: FleetSpec, o: ScheduleOptions): UplinkOutage[] {
  const spec = fleet.hardware.uplink;
  const rand = mulberry32(deriveSeed(o.seed, o.fleetId, 'uplink'));
  return poissonTimes(rand, spec.perDay, o.start, o.end).map((from) => {
    // log-uniform duration: many blips, a few long cuts
    const sec = spec.minSec * Math.pow(spec.maxSec / spec.minSec, rand());
    return { from, to: from + Math.round(sec * SECOND_MS) };
  });
}

const KEEPALIVE_MS = 60_000;

export function* hardwareSchedule(fleet: FleetSpec, o: ScheduleOptions): Generator<DeviceAction> {
  const hw = fleet.hardware;
  const own = mulberry32(deriveSeed(o.seed, o.fleetId, o.deviceIndex, 'hardware'));
  const mode: NtpMode = hw.ntp === 'mixed' ? (['none', 'step', 'slew'] as const)[Math.floor(own() * 3)]! : hw.ntp;
  const ppm = gaussian(own) * hw.ppmSd;
  const clock = deviceClock(mode, ppm, o.start, mulberry32(deriveSeed(o.seed, o.fleetId, o.deviceIndex, 'clock')), hw);
  const machine = randomWalkMachine(own);
  // The timer ticks on the crystal: a fast crystal makes the period shorter in true time.
  const periodMs = (fleet.intervalSec * SECOND_MS) / (1 + ppm / 1e6);
  const baseDelayMs = hw.delayMs[0] + own() * (hw.delayMs[1] - hw.delayMs[0]);
  const delay = () => baseDelayMs + exponential(own, hw.delayJitterMs);
  const outages = uplinkOutages(fleet, o);
  const reboots = poissonTimes(own, hw.rebootsPerDay, o.start, o.end);
  const actions: DeviceAction[] = [];
  let seq = 0;

  for (const [from, to] of onPeriods(fleet, o.start, o.end)) {
    // Power-on: each machine boots on its own within the first minutes; power-off the same way at the end.
    const spread = Math.min(hw.powerSpreadMinutes * MINUTE_MS, (to - from) / 4);
    const off = to - Math.floor(own() * spread);
    let up = from + Math.floor(own() * spread) + Math.round(20 * SECOND_MS + own() * 40 * SECOND_MS);
    let connected = true;
    actions.push({ at: up, kind: 'connect' });
    let phase = up + own() * periodMs;
    let k = 0;
    let lastDelivery = up;
    for (;;) {
      const send = phase + k * periodMs + own() * 3; // a few ms of task scheduling, not accumulated
      if (send >= off) break;
      const reboot = reboots.find((r) => r >= up && r < send);
      if (reboot !== undefined) {
        // A reboot closes the connection (the gateway sees it at once) and comes back after booting.
        if (connected) actions.push({ at: reboot, kind: 'disconnect' });
        up = reboot + Math.round(30 * SECOND_MS + own() * 60 * SECOND_MS);
        if (up >= off) {
          connected = false;
          break;
        }
        actions.push({ at: up, kind: 'connect' });
        connected = true;
        seq = 0;
        phase = up + own() * periodMs;
        k = 0;
        continue;
      }
      const cut = outages.find((u) => send >= u.from && send < u.to);
      if (cut && cut.to - cut.from > hw.uplink.holdSec * SECOND_MS) {
        // Long cut: the connection is gone. The gateway notices at its keep-alive, the device at its own, then backs off.
        // [MQTT-3.1.2-24]: 1.5 keep-alives after the last packet, which came up to one keep-alive before the cut.
        const gatewayNotices = cut.from + Math.round(KEEPALIVE_MS * 1.5 - own() * KEEPALIVE_MS);
        const deviceNotices = cut.from + Math.round(KEEPALIVE_MS * 0.5 + own() * KEEPALIVE_MS);
        const retry = reconnectTime(deviceNotices, cut.to, { backoffInitialSec: 1 + own() * 4, backoffMaxSec: 120 });
        const back = Math.max(retry, gatewayNotices + 1 + Math.floor(own() * 5 * SECOND_MS));
        if (back >= off) {
          if (connected) actions.push({ at: Math.min(gatewayNotices, off), kind: 'disconnect' });
          connected = false;
          break;
        }
        if (connected) actions.push({ at: gatewayNotices, kind: 'disconnect' });
        actions.push({ at: back, kind: 'connect' });
        connected = true;
        up = back;
        while (phase + k * periodMs < back) k++; // the timer kept running; heartbeats of the cut are lost
        continue;
      }
      // Short blip: TCP holds the segment and retransmits on its own timer once the link is back.
      const delivered = cut ? reconnectTime(send, cut.to, { backoffInitialSec: 0.2 + own() * 0.3, backoffMaxSec: 60 }) + delay() : send + delay();
      const at = Math.max(Math.round(delivered), lastDelivery + 1);
      lastDelivery = at;
      actions.push({ at, kind: 'heartbeat', seq: seq++, ts: Math.round(clock(send)), ...machine() });
      k++;
    }
    if (connected) actions.push({ at: Math.max(off, lastDelivery + 1), kind: 'disconnect' });
  }
  yield* ordered(actions);
}

// ── dishonest: one careful process posing as many devices ────────────────────────────────

interface Stall {
  from: number;
  to: number;
}

/** The host process: its clock, its stalls, its restarts — identical for every device it serves. */
function hostOf(fleet: FleetSpec, o: ScheduleOptions) {
  const p = fleet.oneProcess;
  const rand = mulberry32(deriveSeed(o.seed, o.fleetId, 'host'));
  const ppm = p.hostNtp ? 0 : (p.hostPpm ?? gaussian(rand) * 20);
  const offset = p.hostNtp ? 0 : (rand() * 2 - 1) * 30 * SECOND_MS;
  const clock = (t: number) => t + offset + (ppm * (t - o.start)) / 1e6;
  const stalls: Stall[] = poissonTimes(rand, p.stallsPerHour * 24, o.start, o.end).map((from) => {
    const ms = p.stallMs[0] * Math.pow(p.stallMs[1] / p.stallMs[0], rand());
    return { from, to: from + Math.round(ms) };
  });
  const restarts = poissonTimes(rand, p.restartsPerDay, o.start, o.end);
  let s = 0;
  /** When a timer due at `t` runs: after the stall that covers `t`, if any. Queried with non-decreasing times. */
  const runsAt = (t: number) => {
    while (s < stalls.length && stalls[s]!.to <= t) s++;
    const stall = stalls[s];
    return stall && stall.from <= t ? stall.to : t;
  };
  return { clock, runsAt, restarts, baseDelayMs: 5 + rand() * 40 };
}

export function* oneProcessSchedule(fleet: FleetSpec, o: ScheduleOptions): Generator<DeviceAction> {
  const p = fleet.oneProcess;
  const host = hostOf(fleet, o);
  const own = mulberry32(deriveSeed(o.seed, o.fleetId, o.deviceIndex, 'one-process'));
  const machine = randomWalkMachine(own);
  const periodMs = fleet.intervalSec * SECOND_MS * (1 + (gaussian(own) * p.periodPpmSd) / 1e6);
  const jitterMs = p.jitterMs;
  const stagger = () => Math.floor(own() * p.staggerSec * SECOND_MS);
  const actions: DeviceAction[] = [];
  let seq = 0;

  for (const [from, to] of onPeriods(fleet, o.start, o.end)) {
    const off = to - stagger();
    let up = from + stagger();
    actions.push({ at: up, kind: 'connect' });
    let due = up + own() * periodMs;
    let lastDelivery = up;
    let connected = true;
    for (;;) {
      const runs = host.runsAt(Math.round(due));
      if (runs >= off) break;
      const restart = host.restarts.find((r) => r >= up && r < runs);
      if (restart !== undefined) {
        // The process dies: the kernel closes every socket at once. The new one reconnects its devices one by one.
        actions.push({ at: restart + Math.round(host.baseDelayMs), kind: 'disconnect' });
        up = restart + p.restartSec * SECOND_MS + stagger();
        if (up >= off) {
          connected = false;
          break;
        }
        actions.push({ at: up, kind: 'connect' });
        seq = 0;
        due = up + own() * periodMs;
        continue;
      }
      // The callback stamps `ts` from the host clock when it runs, and sends at once.
      const at = Math.max(Math.round(runs + host.baseDelayMs + exponential(own, 2)), lastDelivery + 1);
      lastDelivery = at;
      actions.push({ at, kind: 'heartbeat', seq: seq++, ts: Math.round(host.clock(runs)), ...machine() });
      // setTimeout chain: the next one is scheduled from when this one ran, with random jitter.
      due = runs + periodMs + (own() * 2 - 1) * jitterMs;
    }
    if (connected) actions.push({ at: Math.max(off, lastDelivery + 1), kind: 'disconnect' });
  }
  yield* ordered(actions);
}
