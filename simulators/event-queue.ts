import type { SimDevice } from './fleet.js';
import type { DeviceAction, HeartbeatAction } from './profiles.js';

/** A device in a run: its connection, its remaining schedule and its fixed position in tie-breaks. */
export interface PlannedDevice {
  device: SimDevice;
  /** Global order: among actions at the same instant, lower goes first, every time. */
  order: number;
  actions: Iterator<DeviceAction>;
  next: DeviceAction | undefined;
}

export function planDevice(device: SimDevice, order: number, actions: Iterator<DeviceAction>): PlannedDevice {
  const first = actions.next();
  return { device, order, actions, next: first.done ? undefined : first.value };
}

/** Binary min-heap of devices keyed by (time of next action, order). */
export class EventQueue {
  readonly #heap: PlannedDevice[] = [];

  constructor(devices: Iterable<PlannedDevice> = []) {
    for (const d of devices) this.push(d);
  }

  get size(): number {
    return this.#heap.length;
  }

  peekAt(): number | undefined {
    return this.#heap[0]?.next?.at;
  }

  push(d: PlannedDevice): void {
    if (!d.next) return;
    const h = this.#heap;
    h.push(d);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): PlannedDevice | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  /**
   * Takes every action due before `until`, grouped per device in time order; devices in the
   * order their first due action comes (time, then `order`).
   */
  takeUntil(until: number): Map<PlannedDevice, DeviceAction[]> {
    const due = new Map<PlannedDevice, DeviceAction[]>();
    while (this.#heap.length > 0 && this.#heap[0]!.next!.at < until) {
      const d = this.pop()!;
      let list = due.get(d);
      if (!list) due.set(d, (list = []));
      while (d.next && d.next.at < until) {
        list.push(d.next);
        const n = d.actions.next();
        d.next = n.done ? undefined : n.value;
      }
      this.push(d);
    }
    return due;
  }
}

function less(a: PlannedDevice, b: PlannedDevice): boolean {
  const ta = a.next!.at;
  const tb = b.next!.at;
  return ta < tb || (ta === tb && a.order < b.order);
}

/**
 * Plays one device's due actions in order: consecutive heartbeats are pipelined on the
 * connection (MQTT keeps their order), connects and disconnects wait for what came before.
 * Returns the number of heartbeats handed to the connection.
 */
export async function playActions(d: PlannedDevice, actions: DeviceAction[]): Promise<number> {
  let inFlight: Promise<void>[] = [];
  let published = 0;
  for (const action of actions) {
    if (action.kind === 'heartbeat') {
      if (d.device.isConnected) {
        inFlight.push(d.device.publish(action as HeartbeatAction));
        published++;
      }
      continue;
    }
    if (inFlight.length) await Promise.all(inFlight);
    inFlight = [];
    if (action.kind === 'connect') await d.device.connect();
    else await d.device.disconnect();
  }
  if (inFlight.length) await Promise.all(inFlight);
  return published;
}
