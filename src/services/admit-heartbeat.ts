import type { Clock } from '../clock.js';
import type { HeartbeatRateLimit } from '../ingest/heartbeat-rate.js';
import type { LockstepTracker } from '../ingest/lockstep.js';
import { parseHeartbeat } from '../ingest/payload.js';
import { checkSeq, type SeqSession } from '../ingest/session.js';
import type { Logger } from '../log.js';
import type { Heartbeat, RejectionReason } from '../telemetry/index.js';

/** What the broker knows about the connection a heartbeat arrived on. */
export interface IngestContext {
  deviceId: string;
  contractId: string;
  supplierId: string;
  /** Remote address of the connection. */
  source: string;
  session: SeqSession;
}

/** Where accepted heartbeats go: a group committer calling `done` once the batch is durable. */
export interface HeartbeatSink {
  add(heartbeat: Heartbeat, done?: (err?: Error) => void): void;
}

export interface RejectionCounter {
  countRejection(deviceId: string, atMs: number, reason: RejectionReason): void;
}

export interface AdmitHeartbeatDeps {
  clock: Clock;
  rate: HeartbeatRateLimit;
  lockstep: LockstepTracker;
  sink: HeartbeatSink;
  rejections: RejectionCounter;
  log: Logger;
  /** Told of every rejection after it is counted (metrics). */
  onRejected?(reason: RejectionReason): void;
}

/**
 * The one place a heartbeat is admitted, as named steps (after aedes' CONNECT handler array):
 *
 *   stamp receive time → parse → flood control → sequence → lock-step → commit
 *
 * `done(null)` tells the broker it may acknowledge: at once for rejected input (MQTT 3.1.1 has
 * no negative PUBACK; the rejection is counted per device instead), and only after the durable
 * commit for an accepted heartbeat. `done(err)` withholds the PUBACK (the device retries).
 */
export function createHeartbeatAdmission(deps: AdmitHeartbeatDeps) {
  const { clock, rate, lockstep, sink, rejections, log } = deps;

  function reject(ctx: IngestContext, at: number, reason: RejectionReason, detail: string): void {
    rejections.countRejection(ctx.deviceId, at, reason);
    deps.onRejected?.(reason);
    log.debug({ deviceId: ctx.deviceId, reason, detail }, 'heartbeat rejected');
  }

  return function admitHeartbeat(ctx: IngestContext, payloadBytes: Uint8Array, done: (err?: Error | null) => void): void {
    // Receive time is the truth (ARCHITECTURE.md).
    const receivedAt = clock.now();

    const parsed = parseHeartbeat(payloadBytes);
    if (!parsed.ok) {
      reject(ctx, receivedAt, parsed.reason, parsed.detail);
      return done(null);
    }

    if (!rate.allow(ctx.deviceId, receivedAt)) {
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
        reject(ctx, receivedAt, 'store-unavailable', err.message);
        return done(err);
      }
      done(null);
    });
  };
}

export type AdmitHeartbeat = ReturnType<typeof createHeartbeatAdmission>;
