/** Messages between bench/run.ts and its load processes (child processes with IPC). */
export interface LoadSpec {
  url: string;
  /** JSON array of { id, token }; this process takes [from, to). */
  credentialsFile: string;
  from: number;
  to: number;
  /** Publishes in flight per client (publisher only). */
  window?: number;
  /** Clients connecting at once while setting up (publisher only; the storm connects all at once). */
  connectConcurrency?: number;
  /** Spread the clients over this many source addresses (127.1.x.y); 0/1 = all from 127.0.0.1. */
  sources?: number;
}

export type LoadRequest =
  /**
   * Publish for `durationMs`: as fast as the acks come back (`window` in flight per client), or,
   * with `ratePerSecond`, paced at that rate for this process, round robin over its clients (a
   * client with `window` unacknowledged heartbeats is skipped and counted).
   */
  | { type: 'go'; durationMs: number; ratePerSecond?: number }
  /** connector: connect clients [from, from + count) of this process's slice, then report. */
  | { type: 'connect'; count: number }
  | { type: 'stop' };

export type LoadMessage =
  | { type: 'connected'; clients: number; failed: number; errors: string[] }
  | {
      type: 'published';
      sent: number;
      /** PUBACKs that arrived inside the measured window. */
      ackedInWindow: number;
      ackedTotal: number;
      durationMs: number;
      histogram: number[];
      disconnects: number;
      /** Paced publishes skipped because the client had `window` heartbeats unacknowledged. */
      skipped: number;
      errors: string[];
    }
  | {
      type: 'storm';
      requested: number;
      connected: number;
      failed: number;
      /** Epoch ms (performance.timeOrigin + now) of the first connect call and the last CONNACK. */
      startedAt: number;
      lastConnackAt: number;
      histogram: number[];
      errors: string[];
    };
