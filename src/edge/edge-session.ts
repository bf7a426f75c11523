/**
 * One edge node's MQTT connection (issue 20): what it may publish and what each message means.
 *
 * - Sparkplug B (src/edge/sparkplug.ts). NBIRTH starts the node's life (with its `bdSeq`);
 *   NDEATH with the same `bdSeq` — normally its MQTT will — or the end of the connection ends
 *   it. A device is online in a minute when its DBIRTH or DDATA arrives in that minute while
 *   its edge node is alive; each such message is a heartbeat of that device, through the same
 *   admission steps (flood control, seq, store) as a direct one.
 * - The JSON batch (src/edge/batch.ts): each entry a heartbeat of a bound device, validated,
 *   counted and rejected on its own; the connection itself is the node's life.
 *
 * The node speaks only under its own id and only for devices bound to it in the registry:
 * anything else is refused like a device's foreign topic (the connection is closed,
 * [MQTT-3.3.5-2]). Problems with one message (bad protobuf, a DDATA before its DBIRTH, a
 * sequence gap) are counted against the node or the device and never close the connection.
 *
 * Sparkplug `seq` is per edge node, 0–255 wrapping (Sparkplug 3.0 §6.4.7). The same seq as the
 * message before is a duplicate and dropped; any other unexpected seq is counted as a gap and
 * followed (a QoS 0 message the edge node's client dropped is lost data, not forged data). The
 * admission's per-device replay check gets the message's position in this connection instead,
 * which only ever grows.
 */
import type { Clock } from '../clock.js';
import type { IngestContext, RejectionCounter, ValidHeartbeat } from '../services/admit-heartbeat.js';
import type { ParseResult } from '../ingest/payload.js';
import { createSeqSession } from '../ingest/session.js';
import type { Logger } from '../log.js';
import type { EdgeBoundDevice } from '../registry/index.js';
import type { EdgeEvidence, RejectionReason } from '../telemetry/index.js';
import { batchTopic, parseBatch } from './batch.js';
import { createCloneTracker } from './clone-tracker.js';
import {
  aliasesOf,
  bdSeqOf,
  decodeSparkplug,
  MAX_BIRTH_BYTES,
  MAX_DATA_BYTES,
  parseSparkplugTopic,
  SPARKPLUG_NAMESPACE,
  toHeartbeatPayload,
  type DecodedSparkplug,
} from './sparkplug.js';

/** Device births within this long after the node's NBIRTH belong to the node's (re)birth, not to the device. */
export const BIRTH_BURST_MS = 10_000;

export interface EdgeNodeIdentity {
  edgeNodeId: string;
  contractId: string;
  supplierId: string;
  /** Remote address of the connection. */
  source: string;
}

export interface EdgeSessionDeps {
  clock: Clock;
  /** The heartbeat admission's steps after parsing (src/services/admit-heartbeat.ts). */
  admitHeartbeat: { admitValid(ctx: IngestContext, valid: ValidHeartbeat, receivedAt: number, done: (err?: Error | null) => void): void };
  bindings: { boundDevice(edgeNodeId: string, deviceId: string): Promise<EdgeBoundDevice | undefined> };
  rejections: RejectionCounter;
  evidence: EdgeEvidence;
  /** Metrics hook: a message or entry rejected (counted), or a publish refused (connection closed). */
  onRejected?(reason: string): void;
  onRefused?(reason: string): void;
  log: Logger;
}

export interface EdgeLiveStatus {
  connected: boolean;
  /** Between NBIRTH and NDEATH (or the end of the connection). */
  born: boolean;
  group: string | null;
  bdSeq: number | null;
  /** Devices born (DBIRTH) and not dead in this life of the node. */
  devicesAlive: number;
}

export interface EdgeSession {
  /** Handles one PUBLISH (or the will); `done(error)` refuses it and closes the connection. */
  publish(topic: string, payload: Uint8Array, done: (err?: Error | null) => void): void;
  /** The connection ended: the node and its devices are dead. */
  closed(): void;
  status(): EdgeLiveStatus;
}

interface Child {
  ctx: IngestContext;
  alive: boolean;
  aliases: Map<number, string>;
}

export function createEdgeSession(deps: EdgeSessionDeps, node: EdgeNodeIdentity): EdgeSession {
  const { clock, admitHeartbeat, bindings, rejections, evidence, log } = deps;
  const { edgeNodeId } = node;
  const ownBatchTopic = batchTopic(edgeNodeId);
  const clones = createCloneTracker();

  let connected = true;
  let born = false;
  let group: string | undefined;
  let bdSeq: number | undefined;
  let bornAt = 0;
  let inOrder: Promise<void> = Promise.resolve();
  let lastSeq: number | undefined;
  /** Position of a device message in this connection: the per-device seq the admission checks. */
  let ordinal = 0;
  const children = new Map<string, Child>();
  /** Devices reported through the JSON batch, each with its own seq session. */
  const batchDevices = new Map<string, IngestContext>();

  const refuse = (reason: string, message: string, done: (err?: Error | null) => void) => {
    deps.onRefused?.(reason);
    log.warn({ edgeNodeId, reason }, `edge publish refused: ${message}`);
    done(new Error(`edge node ${edgeNodeId}: ${message}`));
  };
  const rejectOn = (subject: string, at: number, reason: RejectionReason, detail: string) => {
    rejections.countRejection(subject, at, reason);
    deps.onRejected?.(reason);
    log.debug({ edgeNodeId, subject, reason, detail }, 'edge message rejected');
  };

  function contextFor(device: EdgeBoundDevice): IngestContext {
    return {
      deviceId: device.deviceId,
      contractId: device.contractId,
      supplierId: device.supplierId,
      source: node.source,
      session: createSeqSession(),
      edgeNodeId,
    };
  }

  /** One device heartbeat through the admission; `done` once it is durable (or rejected). */
  function admit(ctx: IngestContext, parsed: ParseResult, at: number, done: (err?: Error | null) => void): void {
    if (!parsed.ok) {
      rejectOn(ctx.deviceId, at, parsed.reason, parsed.detail);
      return done(null);
    }
    const verdict = clones.observe(ctx.deviceId, parsed.payload.metrics, at);
    if (verdict !== 'uninformative') {
      evidence.countEdge(edgeNodeId, at, 'with-metrics');
      if (verdict === 'cloned') evidence.countEdge(edgeNodeId, at, 'cloned-metrics');
    }
    admitHeartbeat.admitValid(ctx, parsed, at, (err) => {
      if (!err) {
        evidence.countReport(ctx.deviceId, edgeNodeId, at);
        evidence.countEdge(edgeNodeId, at, 'device-messages');
      }
      done(err);
    });
  }

  function nodeDead(): void {
    born = false;
    for (const child of children.values()) child.alive = false;
  }

  /** Sparkplug 3.0 §6.4.7: seq follows the previous message's, modulo 256. */
  function sequenceOk(seq: number | undefined, at: number): boolean {
    if (seq === undefined) {
      rejectOn(edgeNodeId, at, 'invalid-sparkplug', 'message without seq');
      return false;
    }
    if (lastSeq !== undefined && seq === lastSeq) {
      rejectOn(edgeNodeId, at, 'duplicate-seq', `seq ${seq} repeated`);
      return false;
    }
    if (lastSeq !== undefined && seq !== (lastSeq + 1) % 256) rejectOn(edgeNodeId, at, 'sparkplug-seq-gap', `seq ${seq} after ${lastSeq}`);
    lastSeq = seq;
    return true;
  }

  async function handleSparkplug(topic: string, payload: Uint8Array, at: number, done: (err?: Error | null) => void): Promise<void> {
    const parsed = parseSparkplugTopic(topic);
    if ('error' in parsed) return refuse('wrong-topic', `${parsed.error}: ${topic.slice(0, 200)}`, done);
    if (parsed.edgeNodeId !== edgeNodeId) return refuse('wrong-topic', `may not publish as edge node ${parsed.edgeNodeId.slice(0, 64)}`, done);
    if (group !== undefined && parsed.group !== group && parsed.type !== 'NBIRTH') {
      return refuse('wrong-topic', `group ${parsed.group.slice(0, 64)} is not the group of its NBIRTH (${group})`, done);
    }
    const isBirth = parsed.type === 'NBIRTH' || parsed.type === 'DBIRTH';
    const decoded = decodeSparkplug(payload, isBirth ? MAX_BIRTH_BYTES : MAX_DATA_BYTES);
    if (!decoded.ok) {
      const subject = parsed.kind === 'device' && children.has(parsed.deviceId) ? parsed.deviceId : edgeNodeId;
      rejectOn(subject, at, decoded.reason, decoded.detail);
      return done(null);
    }
    const message = decoded.value;

    if (parsed.kind === 'node') {
      switch (parsed.type) {
        case 'NBIRTH': {
          const birthSeq = bdSeqOf(message.metrics);
          if (birthSeq === undefined) {
            rejectOn(edgeNodeId, at, 'invalid-sparkplug', 'NBIRTH without bdSeq');
            return done(null);
          }
          // A new life: every device must be born again (Sparkplug 3.0 §7.1).
          nodeDead();
          born = true;
          group = parsed.group;
          bdSeq = birthSeq;
          bornAt = at;
          lastSeq = message.seq ?? 0;
          evidence.countEdge(edgeNodeId, at, 'node-births');
          return done(null);
        }
        case 'NDEATH': {
          // No seq on NDEATH; its bdSeq says which life it ends (a stale will must not end a new one).
          const deathSeq = bdSeqOf(message.metrics);
          if (!born || deathSeq !== bdSeq) {
            rejectOn(edgeNodeId, at, 'sparkplug-stale-ndeath', `bdSeq ${deathSeq} does not match the NBIRTH's ${bdSeq}`);
            return done(null);
          }
          nodeDead();
          evidence.countEdge(edgeNodeId, at, 'node-deaths');
          return done(null);
        }
        case 'NDATA':
          if (!born) {
            rejectOn(edgeNodeId, at, 'sparkplug-node-not-born', 'NDATA before NBIRTH');
            return done(null);
          }
          sequenceOk(message.seq, at);
          return done(null);
      }
    }

    const { deviceId } = parsed;
    let child = children.get(deviceId);
    if (!child) {
      const bound = await bindings.boundDevice(edgeNodeId, deviceId);
      if (!bound) return refuse('unbound-device', `device ${deviceId.slice(0, 64)} is not bound to it`, done);
      if (!bound.enabled) {
        rejectOn(deviceId, at, 'device-disabled', 'device is disabled');
        return done(null);
      }
      child = { ctx: contextFor(bound), alive: false, aliases: new Map() };
      if (parsed.type === 'DBIRTH') children.set(deviceId, child);
    }
    if (!born) {
      rejectOn(deviceId, at, 'sparkplug-node-not-born', `${parsed.type} while its edge node is not born`);
      return done(null);
    }
    if (!sequenceOk(message.seq, at)) return done(null);
    switch (parsed.type) {
      case 'DBIRTH':
        child.alive = true;
        child.aliases = aliasesOf(message.metrics);
        countLifecycle(at, at - bornAt > BIRTH_BURST_MS);
        return admit(child.ctx, devicePayload(message, child), at, done);
      case 'DDATA':
        if (!child.alive) {
          rejectOn(deviceId, at, 'sparkplug-device-not-born', 'DDATA before its DBIRTH');
          return done(null);
        }
        return admit(child.ctx, devicePayload(message, child), at, done);
      case 'DDEATH':
        if (child.alive) countLifecycle(at, true);
        child.alive = false;
        return done(null);
    }
  }

  function devicePayload(message: DecodedSparkplug, child: Child): ParseResult {
    return toHeartbeatPayload(message, ++ordinal, child.aliases);
  }

  function countLifecycle(at: number, own: boolean): void {
    evidence.countEdge(edgeNodeId, at, 'device-lifecycle');
    if (own) evidence.countEdge(edgeNodeId, at, 'own-lifecycle');
  }

  async function handleBatch(payload: Uint8Array, at: number, done: (err?: Error | null) => void): Promise<void> {
    const batch = parseBatch(payload);
    if (!batch.ok) {
      rejectOn(edgeNodeId, at, batch.reason, batch.detail);
      return done(null);
    }
    let waiting = 1;
    let failure: Error | null = null;
    // QoS 1: the PUBACK waits for every accepted entry's commit.
    const settle = (err?: Error | null) => {
      if (err && !failure) failure = err;
      if (--waiting === 0) done(failure);
    };
    for (const entry of batch.entries) {
      if (entry.device === undefined) {
        rejectOn(edgeNodeId, at, entry.reason, entry.detail);
        continue;
      }
      let ctx = batchDevices.get(entry.device);
      if (!ctx) {
        const bound = await bindings.boundDevice(edgeNodeId, entry.device);
        if (!bound || !bound.enabled) {
          rejectOn(edgeNodeId, at, bound ? 'device-disabled' : 'unbound-device', `entry for ${entry.device.slice(0, 64)}`);
          continue;
        }
        batchDevices.set(entry.device, (ctx = contextFor(bound)));
      }
      waiting++;
      admit(ctx, entry.result, at, settle);
    }
    settle(null);
  }

  return {
    publish(topic, payload, done) {
      const at = clock.now(); // receive time is the truth (ARCHITECTURE.md)
      // One message at a time, in arrival order: a binding looked up in the registry must not
      // let a later message overtake an earlier one (Sparkplug seq, births before data).
      inOrder = inOrder.then(async () => {
        if (topic === ownBatchTopic) return handleBatch(payload, at, done);
        if (topic.startsWith(`${SPARKPLUG_NAMESPACE}/`)) return handleSparkplug(topic, payload, at, done);
        refuse('wrong-topic', `may not publish to ${topic.slice(0, 200)}`, done);
      }).catch((err: unknown) => {
        log.error({ err, edgeNodeId }, 'edge message not handled (registry unavailable?)');
        done(err instanceof Error ? err : new Error(String(err)));
      });
    },
    closed() {
      connected = false;
      // After the messages still in the queue: the will (NDEATH) aedes hands over just before
      // the end of the connection must find the node alive, as it was when it was sent.
      inOrder = inOrder.then(nodeDead);
    },
    status() {
      let devicesAlive = 0;
      if (born) for (const child of children.values()) if (child.alive) devicesAlive++;
      return { connected, born, group: group ?? null, bdSeq: bdSeq ?? null, devicesAlive };
    },
  };
}
