import type { Clock } from '../clock.js';
import type { ClockDriftTracker } from '../ingest/clock-drift.js';
import type { HeartbeatRateLimit } from '../ingest/heartbeat-rate.js';
import type { LockstepTracker } from '../ingest/lockstep.js';
import { parseHeartbeat, type HeartbeatPayload } from '../ingest/payload.js';
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
  /** Set when the heartbeat came through an edge node's connection (src/edge): that node's id. */
  edgeNodeId?: string;
  /** The connection's session epoch across nodes (src/services/device-sessions.ts); unset on one node (SQLite). */
  sessionEpoch?: number;
}

/** A payload that passed parsing and validation, with the device's own timestamp if it sent one. */
export interface ValidHeartbeat {
  payload: HeartbeatPayload;
  deviceTs: number | undefined;
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
  /** SHARED_CLOCK evidence: the drift of each device's `ts` against receive time. */
  clockDrift?: Pick<ClockDriftTracker, 'observe'>;
  sink: HeartbeatSink;
  rejections: RejectionCounter;
  log: Logger;
  /** Told of every rejection after it is counted (metrics). */
  onRejected?(reason: RejectionReason): void;
  /** Sessions across nodes: a heartbeat from an epoch a later CONNECT of the device replaced is refused. */
  sessions?: { isStale(deviceId: string, epoch: number): boolean };
}

/**
 * The one place a heartbeat is admitted, as named steps (after aedes' CONNECT handler array):
 *
 *   stamp receive time → session fence → parse → flood control → sequence → lock-step → commit
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

  /**
   * The steps after parsing, also taken by the heartbeats an edge node reports for its devices
   * (src/edge decodes Sparkplug B or a JSON batch entry into a valid payload first).
   */
  function admitValid(ctx: IngestContext, parsed: ValidHeartbeat, receivedAt: number, done: (err?: Error | null) => void): void {
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
      // The children of one edge node share its connection and its publish loop: their arrival
      // times say nothing about who is real (EDGE_FABRICATION looks at what they report instead).
      coincident: ctx.edgeNodeId === undefined && lockstep.arrive(ctx.source, ctx.deviceId, receivedAt),
    };
    if (ctx.edgeNodeId !== undefined) heartbeat.via = ctx.edgeNodeId;
    if (parsed.deviceTs !== undefined) {
      heartbeat.deviceTs = parsed.deviceTs;
      deps.clockDrift?.observe(ctx.deviceId, receivedAt, parsed.deviceTs);
    }
    if (parsed.payload.status !== undefined) heartbeat.status = parsed.payload.status;
    if (parsed.payload.metrics !== undefined) heartbeat.metrics = parsed.payload.metrics;

    sink.add(heartbeat, (err) => {
      if (err) {
        reject(ctx, receivedAt, 'store-unavailable', err.message);
        return done(err);
      }
      done(null);
    });
  }

  function admitHeartbeat(ctx: IngestContext, payloadBytes: Uint8Array, done: (err?: Error | null) => void): void {
    // Receive time is the truth (ARCHITECTURE.md).
    const receivedAt = clock.now();

    // The device's session now lives on a later CONNECT (on another node): this connection is
    // being closed, and what it still sends is not the device's (memory only, no round trip).
    if (ctx.sessionEpoch !== undefined && deps.sessions?.isStale(ctx.deviceId, ctx.sessionEpoch)) {
      reject(ctx, receivedAt, 'stale-session', `session epoch ${ctx.sessionEpoch} was replaced`);
      return done(null);
    }

    const parsed = parseHeartbeat(payloadBytes);
    if (!parsed.ok) {
      reject(ctx, receivedAt, parsed.reason, parsed.detail);
      return done(null);
    }
    admitValid(ctx, parsed, receivedAt, done);
  }

  return Object.assign(admitHeartbeat, { admitValid });
}

export type AdmitHeartbeat = ReturnType<typeof createHeartbeatAdmission>;
