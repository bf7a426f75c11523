/**
 * Arrival-time fingerprints per connection source, computed while ingesting (the verifier
 * never rescans raw messages). One program posing as many devices sends their heartbeats
 * together, so each of its devices keeps arriving next to the *same* other devices. Honest
 * devices behind one NAT address run their own timers: now and then two arrive close
 * together, but their neighbours keep changing.
 *
 * The neighbours of an arrival are the other devices of the same source that arrived within
 * `windowMs` before it or after it. An arrival is coincident when it shares a neighbour with
 * the device's arrival before it. Followers are known only later, so the verdict on an arrival
 * is given with the device's *next* heartbeat (the flag lags one heartbeat); that way the device
 * that always leads a lock-step round is caught as well as the ones that follow it.
 * The verifier's LOCKSTEP signal looks at the share of coincident heartbeats per device.
 */
export interface LockstepTracker {
  /** Records an arrival; says whether the device's previous arrival was coincident. */
  arrive(source: string, deviceId: string, at: number): boolean;
  /** Sources currently tracked. */
  sources(): number;
}

interface SourceState {
  times: number[];
  devices: string[];
  /** Neighbours of each device's latest arrival (followers are added as they come). */
  neighbours: Map<string, Set<string>>;
  /** Neighbours of the arrival before the latest. */
  before: Map<string, Set<string>>;
}

export function createLockstepTracker(options: { windowMs: number; maxRecent?: number }): LockstepTracker {
  const { windowMs } = options;
  const maxRecent = options.maxRecent ?? 256;
  const bySource = new Map<string, SourceState>();

  return {
    arrive(source, deviceId, at) {
      let state = bySource.get(source);
      if (!state) bySource.set(source, (state = { times: [], devices: [], neighbours: new Map(), before: new Map() }));
      const { times, devices, neighbours, before } = state;
      let drop = 0;
      while (drop < times.length && at - times[drop]! > windowMs) drop++;
      if (drop > 0) {
        times.splice(0, drop);
        devices.splice(0, drop);
      }
      // Verdict on the device's latest arrival, now that its followers are known.
      const latest = neighbours.get(deviceId);
      const earlier = before.get(deviceId);
      let coincident = false;
      if (latest && earlier) for (const other of latest) if (earlier.has(other)) coincident = true;
      if (latest) before.set(deviceId, latest);
      const current = new Set<string>();
      for (const other of devices) {
        if (other === deviceId) continue;
        current.add(other);
        // this arrival falls within the window after `other`'s latest one
        neighbours.get(other)?.add(deviceId);
      }
      neighbours.set(deviceId, current);
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
