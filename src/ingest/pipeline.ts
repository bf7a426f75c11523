import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Heartbeat, RejectionReason } from '../telemetry/index.js';
import type { LockstepTracker } from './lockstep.js';
import { parseHeartbeat } from './payload.js';
import { checkSeq, type SeqSession } from './session.js';

/** What the broker knows about the connection a heartbeat arrived on. */
export interface IngestContext {
  deviceId: string;
  contractId: string;
  supplierId: string;
  /** Remote address of the connection. */
  source: string;
  session: SeqSession;
}

export type IngestRejection = RejectionReason;

/** Where accepted heartbeats go: a group committer calling `done` once the batch is durable. */
export interface HeartbeatSink {
  add(heartbeat: Heartbeat, done?: (err?: Error) => void): void;
}

export interface RejectionCounter {
  countRejection(deviceId: string, atMs: number, reason: RejectionReason): void;
}

export interface IngestHooks {
  accepted?(heartbeat: Heartbeat): void;
  rejected?(ctx: IngestContext, reason: IngestRejection, detail: string): void;
  /** Per-device flood control; returns false to drop the heartbeat. */
  allow?(ctx: IngestContext, receivedAt: number): boolean;
}

/**
 * The heartbeat's path as named steps (after aedes' CONNECT handler array):
 * parse → validate → stamp receive time → dedupe/replay check → lock-step fingerprint → store.
 *
 * `done(null)` is called when the broker may acknowledge: immediately for rejected input
 * (MQTT 3.1.1 has no negative PUBACK; the rejection is counted per device instead), and
 * only after the durable commit for accepted heartbeats.
 */
export function createHeartbeatPipeline(deps: {
  clock: Clock;
  sink: HeartbeatSink;
  rejections: RejectionCounter;
  lockstep: LockstepTracker;
  log: Logger;
  hooks?: IngestHooks;
}) {
  const { clock, sink, rejections, lockstep, log, hooks = {} } = deps;

  function reject(ctx: IngestContext, at: number, reason: IngestRejection, detail: string): void {
    rejections.countRejection(ctx.deviceId, at, reason);
    hooks.rejected?.(ctx, reason, detail);
    log.debug({ deviceId: ctx.deviceId, reason, detail }, 'heartbeat rejected');
  }

  return {
    handle(ctx: IngestContext, payloadBytes: Uint8Array, done: (err?: Error | null) => void): void {
      const receivedAt = clock.now(); // receive time is the truth (ARCHITECTURE.md)
      const parsed = parseHeartbeat(payloadBytes);
      if (!parsed.ok) {
        reject(ctx, receivedAt, parsed.reason, parsed.detail);
        return done(null);
      }
      if (hooks.allow && !hooks.allow(ctx, receivedAt)) {
        reject(ctx, receivedAt, 'rate-limited', 'above the per-device heartbeat rate');
        return done(null);
      }
      const verdict = checkSeq(ctx.session, parsed.payload.seq);
      if (verdict !== 'new') {
        reject(ctx, receivedAt, verdict === 'duplicate' ? 'duplicate-seq' : 'seq-replay', `seq ${parsed.payload.seq} ≤ ${ctx.session.maxSeq} in this session`);
        return done(null);
      }
      const heartbeat: Heartbeat = {
        deviceId: ctx.deviceId,
        contractId: ctx.contractId,
        supplierId: ctx.supplierId,
        seq: parsed.payload.seq,
        receivedAt,
        source: ctx.source,
        coincident: lockstep.arrive(ctx.source, ctx.deviceId, receivedAt),
      };
      if (parsed.deviceTs !== undefined) heartbeat.deviceTs = parsed.deviceTs;
      if (parsed.payload.status !== undefined) heartbeat.status = parsed.payload.status;
      if (parsed.payload.metrics !== undefined) heartbeat.metrics = parsed.payload.metrics;
      sink.add(heartbeat, (err) => {
        if (err) {
          // Not durable: withhold the PUBACK by failing the publish; the device retries on reconnect.
          reject(ctx, receivedAt, 'store-unavailable', err.message);
          return done(err);
        }
        hooks.accepted?.(heartbeat);
        done(null);
      });
    },
  };
}

export type HeartbeatPipeline = ReturnType<typeof createHeartbeatPipeline>;
