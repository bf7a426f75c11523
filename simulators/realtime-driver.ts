import { setTimeout as sleep } from 'node:timers/promises';
import { EventQueue, playActions, type PlannedDevice } from './event-queue.js';
import { systemClock } from '../src/clock.js';

/**
 * Real time: the schedules are played against the wall clock, for demos and load against a
 * running gateway (which stamps receive times with its own clock). Each device's actions run
 * one after another on its own promise chain; devices never wait for each other.
 */
export async function runRealtime(o: {
  devices: PlannedDevice[];
  end: number;
  /** Granularity of the scheduler loop. */
  tickMs?: number;
  signal?: AbortSignal;
  onTick?: (nowMs: number) => void;
}): Promise<void> {
  const queue = new EventQueue(o.devices);
  const chains = new Map<PlannedDevice, Promise<unknown>>();
  const tickMs = o.tickMs ?? 50;
  while (!o.signal?.aborted) {
    const now = systemClock.now();
    if (now >= o.end) break;
    for (const [d, actions] of queue.takeUntil(now + 1)) {
      const chain = (chains.get(d) ?? Promise.resolve()).then(() => playActions(d, actions));
      chains.set(d, chain);
      void chain.finally(() => {
        if (chains.get(d) === chain) chains.delete(d);
      });
    }
    o.onTick?.(now);
    const next = queue.peekAt();
    if (next === undefined) break;
    await sleep(Math.max(1, Math.min(tickMs, next - systemClock.now(), o.end - systemClock.now())));
  }
  await Promise.allSettled([...chains.values()]);
  await Promise.all(o.devices.map((d) => d.device.disconnect()));
}
