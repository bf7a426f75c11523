import { setImmediate as nextTurn } from 'node:timers/promises';
import type { VirtualClock } from '../src/clock.js';
import type { FleetStats } from './fleet.js';
import { EventQueue, playActions, type PlannedDevice } from './event-queue.js';

/**
 * Virtual time: the gateway runs on a VirtualClock this driver sets (shared with the worker
 * thread when the gateway runs in one), and the broker stamps each PUBLISH with `clock.now()`
 * when it processes it. So the clock must stand still while heartbeats are in flight. The
 * driver works in ticks: it takes every action due within the tick, sets the clock to the tick's
 * start, plays them (QoS 1 publishes wait for their PUBACK, which the gateway sends only after
 * the durable commit; QoS 0 ones wait until the gateway has counted them), and only then moves
 * on. Empty ticks are skipped.
 */
export interface VirtualRunOptions {
  /** The gateway's clock. */
  clock: VirtualClock;
  devices: PlannedDevice[];
  stats: FleetStats;
  start: number;
  end: number;
  tickMs: number;
  /**
   * Resolves once the gateway has processed (accepted or rejected) `published` heartbeats in
   * total; needed for QoS 0, which has no acknowledgement to wait for.
   */
  settle?: (published: number) => Promise<void>;
  /**
   * Resolves once the gateway holds at most `connected` connections: a tick's disconnects are
   * recorded at the tick's time, not at whatever time the clock has moved on to (ONE_LIFE reads
   * the moments of drops; a shift end must not look like it happened at the next morning).
   */
  settleConnections?: (connected: number) => Promise<void>;
  onTick?: (simulatedMs: number) => void;
  /** Called before every tick; throws to stop the run (e.g. the gateway's thread died). */
  check?: () => void;
}

export interface VirtualRunResult {
  ticks: number;
  published: number;
}

/** Devices started in one synchronous pass of a tick (see runVirtual). */
const START_SLICE = 25;

export async function runVirtual(o: VirtualRunOptions): Promise<VirtualRunResult> {
  const queue = new EventQueue(o.devices);
  /** The next non-empty tick: its start and every device's actions due within it (schedules are pure). */
  const takeTick = () => {
    const first = queue.peekAt();
    if (first === undefined || first >= o.end) return undefined;
    const tickStart = o.start + Math.floor((first - o.start) / o.tickMs) * o.tickMs;
    const tickEnd = Math.min(tickStart + o.tickMs, o.end);
    return { tickStart, entries: [...queue.takeUntil(tickEnd)] };
  };
  let ticks = 0;
  let published = 0;
  let disconnectsSeen = o.stats.disconnects;
  for (let tick = takeTick(); tick; ) {
    o.check?.();
    const { tickStart, entries } = tick;
    if (tickStart > o.clock.now()) o.clock.set(tickStart);
    // Every device's actions start in queue order: a lock-step fleet's heartbeats leave in the
    // same order every tick. mqtt.js writes a packet on the next process tick, so a large tick
    // starts its devices in slices of START_SLICE with a turn of the event loop between them:
    // the packets of one slice are on their way to the gateway (in its thread) while the next
    // slice is prepared, instead of all leaving at the end of one long synchronous pass.
    const plays: Array<Promise<number>> = [];
    for (let i = 0; i < entries.length; i++) {
      if (i > 0 && i % START_SLICE === 0) await nextTurn();
      const [d, actions] = entries[i]!;
      const play = playActions(d, actions);
      play.catch(() => undefined); // handled by Promise.all below; not "unhandled" while the next slice starts
      plays.push(play);
    }
    // The following tick is taken from the schedules while this one's heartbeats are in flight.
    const following = takeTick();
    const counts = await Promise.all(plays);
    let atQos0 = 0;
    counts.forEach((c, i) => {
      published += c;
      if (entries[i]![0].device.qos === 0) atQos0 += c;
    });
    if (atQos0 > 0 && o.settle) await o.settle(published);
    if (o.stats.disconnects > disconnectsSeen && o.settleConnections) await o.settleConnections(o.stats.connected);
    disconnectsSeen = o.stats.disconnects;
    ticks++;
    o.onTick?.(tickStart);
    tick = following;
  }
  if (o.end > o.clock.now()) o.clock.set(o.end);
  // Power-off at the end of the run.
  await Promise.all(o.devices.map((d) => d.device.disconnect()));
  await nextTurn();
  return { ticks, published };
}
