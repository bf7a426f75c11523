/**
 * Per-device heartbeat flood control (SECURITY.md "Leaked device token"): a token bucket of
 * heartbeats. Above `ratePerMin` (with `burst` of slack) heartbeats are dropped and counted as
 * `rate-limited`. Online minutes could not be inflated by a flood anyway (a minute is online or
 * not); this bounds the work and the `heartbeats` counter one device can cause. Times are the
 * receive times the admission stamps from the injected clock.
 *
 * The bucket belongs to the device id, not to its connection: a reconnect does not refill it. It
 * lives in the process, and that is enough across nodes (README "Limits across nodes"): a device
 * holds one live session in the whole cluster, so all its heartbeats arrive through one node at a
 * time. A device that moves to another node starts there with a full bucket — at most `burst`
 * heartbeats more per move — and its moves are CONNECTs, which the shared flapping ban bounds.
 */
export interface HeartbeatRateLimit {
  /** False drops the heartbeat. */
  allow(deviceId: string, receivedAt: number): boolean;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createHeartbeatRateLimit(limits: { ratePerMin: number; burst: number }): HeartbeatRateLimit {
  const buckets = new Map<string, Bucket>();
  const refillPerMs = limits.ratePerMin / 60_000;
  const burst = Math.max(1, limits.burst);
  return {
    allow(deviceId, receivedAt) {
      if (limits.ratePerMin <= 0) return true;
      let b = buckets.get(deviceId);
      if (b === undefined) buckets.set(deviceId, (b = { tokens: burst, at: receivedAt }));
      // A clock that steps backwards (a VirtualClock set back) refills nothing.
      const elapsed = Math.max(0, receivedAt - b.at);
      b.tokens = Math.min(burst, b.tokens + elapsed * refillPerMs);
      b.at = Math.max(b.at, receivedAt);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
  };
}
