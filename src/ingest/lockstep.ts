/**
 * Arrival-time fingerprints per connection source, computed while ingesting (the verifier
 * never rescans raw messages). One program posing as many devices sends their heartbeats
 * together, so each of its devices keeps arriving next to the *same* partners. Honest devices
 * behind one NAT address run their own timers: they sometimes arrive close together, but
 * with ever-changing neighbours.
 *
 * A heartbeat is `coincident` when, among the other devices of its source that arrived within
 * `windowMs` before it, there is the partner it had last time. The verifier's LOCKSTEP signal
 * looks at the share of coincident heartbeats per device.
 */
export interface LockstepTracker {
  /** Records an arrival and says whether it is coincident. */
  arrive(source: string, deviceId: string, at: number): boolean;
  /** Forget a source's state (e.g. nothing from it for a while). */
  sources(): number;
}

export function createLockstepTracker(options: { windowMs: number; maxRecent?: number }): LockstepTracker {
  const windowMs = options.windowMs;
  const maxRecent = options.maxRecent ?? 256;
  const bySource = new Map<string, { times: number[]; devices: string[]; partner: Map<string, string> }>();

  return {
    arrive(source, deviceId, at) {
      let state = bySource.get(source);
      if (!state) {
        state = { times: [], devices: [], partner: new Map() };
        bySource.set(source, state);
      }
      const { times, devices, partner } = state;
      // drop arrivals older than the window (arrivals come in receive order)
      let drop = 0;
      while (drop < times.length && at - times[drop]! > windowMs) drop++;
      if (drop > 0) {
        times.splice(0, drop);
        devices.splice(0, drop);
      }
      const previous = partner.get(deviceId);
      let coincident = false;
      let nearest: string | undefined;
      for (let i = devices.length - 1; i >= 0; i--) {
        const other = devices[i]!;
        if (other === deviceId) continue;
        nearest ??= other;
        if (other === previous) {
          coincident = true;
          break;
        }
      }
      if (!coincident && nearest !== undefined) partner.set(deviceId, nearest);
      else if (nearest === undefined) partner.delete(deviceId);
      times.push(at);
      devices.push(deviceId);
      if (times.length > maxRecent) {
        times.shift();
        devices.shift();
      }
      return coincident;
    },
    sources() {
      return bySource.size;
    },
  };
}
