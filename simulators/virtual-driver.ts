import { setImmediate as nextTurn } from 'node:timers/promises';
import type { VirtualClock } from '../src/clock.js';
import type { FleetStats } from './fleet.js';
import { EventQueue, playActions, type PlannedDevice } from './event-queue.js';

/**
 * Virtual time: the gateway runs in-process on a shared VirtualClock, and the broker stamps
 * each PUBLISH with `clock.now()` when it processes it. So the clock must stand still while
 * heartbeats are in flight. The driver works in ticks: it takes every action due within the
 * tick, sets the clock to the tick's start, plays them (QoS 1 publishes wait for their PUBACK,
 * which the gateway sends only after the durable commit; QoS 0 ones wait until the gateway has
 * counted them), and only then moves on. Empty ticks are skipped.
 */
export interface VirtualRunOptions {
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
  onTick?: (simulatedMs: number) => void;
}

export interface VirtualRunResult {
  ticks: number;
  published: number;
}

export async function runVirtual(o: VirtualRunOptions): Promise<VirtualRunResult> {
  const queue = new EventQueue(o.devices);
  let ticks = 0;
  let published = 0;
  for (;;) {
    const first = queue.peekAt();
    if (first === undefined || first >= o.end) break;
    const tickStart = o.start + Math.floor((first - o.start) / o.tickMs) * o.tickMs;
    const tickEnd = Math.min(tickStart + o.tickMs, o.end);
    if (tickStart > o.clock.now()) o.clock.set(tickStart);
    const due = queue.takeUntil(tickEnd);
    // Every device's actions start in the same synchronous pass, in queue order: a lock-step
    // fleet's heartbeats leave in the same order every tick.
    const entries = [...due];
    const counts = await Promise.all(entries.map(([d, actions]) => playActions(d, actions)));
    let atQos0 = 0;
    counts.forEach((c, i) => {
      published += c;
      if (entries[i]![0].device.qos === 0) atQos0 += c;
    });
    if (atQos0 > 0 && o.settle) await o.settle(published);
    ticks++;
    o.onTick?.(tickStart);
  }
  if (o.end > o.clock.now()) o.clock.set(o.end);
  // Power-off at the end of the run.
  await Promise.all(o.devices.map((d) => d.device.disconnect()));
  await nextTurn();
  return { ticks, published };
}
