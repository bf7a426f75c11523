import DataLoader from 'dataloader';
import type { ConnectionLog } from '../../broker/device-directory.js';
import type { Logger } from '../log.js';
import { REVOKED_HOLDER, type ClaimRequest, type DeviceSessions, type SessionClaim, type TakeoverNotice } from '../registry/index.js';

/**
 * One MQTT session per device across the gateway nodes sharing a PostgreSQL registry (issue 17).
 *
 * Every authenticated CONNECT claims the device's row in `device_sessions`, which raises its
 * epoch (src/registry/device-sessions.ts). A claim that replaces another node notifies it
 * (LISTEN/NOTIFY); that node closes its connection if it holds an older epoch — what aedes does
 * on one node [MQTT-3.1.4-2] — and records the take-over as evidence, so SESSION_TAKEOVER counts
 * across nodes exactly as on one. Notifications reach only live listeners, so each node also
 * reconciles periodically (and after its LISTEN connection comes back): its sessions whose row
 * names a later epoch on another node are closed the same way.
 *
 * The epoch is the fencing token. A node learns a later epoch (notice or reconcile) before its
 * old connection is gone — the socket closes asynchronously and packets already read still flow
 * — and a CONNECT on this node may even finish claiming after a later claim elsewhere was
 * announced. Heartbeat admission asks `isStale` (memory only, no round trip per heartbeat) and
 * refuses heartbeats from an epoch below the latest known.
 *
 * The take-over is recorded by the node that drops a live connection, not by the claimer: only
 * that node knows a session was really there. A claim that replaces a killed node's row (its
 * devices reconnecting elsewhere) notifies nobody who holds anything, and is no take-over —
 * as on one node, where a device reconnecting after its old connection is gone is none either.
 */
export interface SessionCoordinator {
  /**
   * Claims the device's session for this node at an authenticated CONNECT; its epoch, or
   * SessionSupersededError. `close` ends the connection and says whether it was still open.
   */
  open(deviceId: string, source: string, close: () => boolean): Promise<number>;
  /** Ends the device's session on whichever node holds it (credentials changed); that node records no take-over. */
  revoke(deviceId: string): Promise<void>;
  /** The connection of that epoch ended (a clean end releases the row if no later claim replaced it). */
  closed(deviceId: string, epoch: number): void;
  /** True when a later session of the device is known: its heartbeats on this epoch are refused. */
  isStale(deviceId: string, epoch: number): boolean;
  /** A notice from the SESSION_TAKEOVER_CHANNEL (JSON); anything malformed is logged and dropped. */
  notified(payload: string): void;
  /** Closes this node's sessions that a later claim elsewhere replaced; resolves to how many. */
  reconcile(): Promise<number>;
  /** Sessions this node holds. */
  held(): number;
  /** A clean stop: no more claims; the node's rows go in one statement. */
  stop(): Promise<void>;
}

/** A CONNECT whose claim completed after a later claim of the same device was already known. */
export class SessionSupersededError extends Error {
  override readonly name = 'SessionSupersededError';
}

export type SupersededBy = 'notice' | 'reconcile';

export interface SessionCoordinatorDeps {
  sessions: DeviceSessions;
  nodeId: string;
  clock: { now(): number };
  connections: Pick<ConnectionLog, 'recordConnection'>;
  log: Logger;
  /** Told of every connection this node closed because another node took its device over. */
  onSuperseded?(by: SupersededBy): void;
}

/** Claims arriving within this window go out as one upsert (a reconnect storm is thousands of CONNECTs a second). */
const CLAIM_WINDOW_MS = 5;
const MAX_CLAIM_BATCH = 500;

interface HeldSession {
  epoch: number;
  close: () => boolean;
}

export function createSessionCoordinator(deps: SessionCoordinatorDeps): SessionCoordinator {
  const { sessions, nodeId, clock, log } = deps;
  const held = new Map<string, HeldSession>();
  /** Latest epochs learnt from notices for devices whose claim is still in flight here. */
  const announced = new Map<string, number>();
  /** Claims in flight per device: a notice may overtake this node's own claim's answer. */
  const pending = new Map<string, number>();
  let stopping = false;

  const claims = new DataLoader<ClaimRequest, SessionClaim>((batch) => sessions.claimMany(batch), {
    cache: false,
    maxBatchSize: MAX_CLAIM_BATCH,
    batchScheduleFn: (dispatch) => setTimeout(dispatch, CLAIM_WINDOW_MS),
  });

  function supersede(deviceId: string, session: HeldSession, by: SupersededBy, taker: { epoch: number; node: string; source: string; at: number } | null): void {
    held.delete(deviceId);
    // A connection already gone (it dropped while its claim was in flight) was no session to take over.
    if (!session.close()) return;
    if (taker) {
      // Called from the LISTEN connection's events: a failing evidence store costs the row, never the process.
      try {
        deps.connections.recordConnection({ deviceId, at: taker.at, kind: 'takeover', source: taker.source });
      } catch (err) {
        log.error({ err, deviceId }, 'take-over not recorded');
      }
    }
    deps.onSuperseded?.(by);
    log.info(
      { deviceId, epoch: session.epoch, by, takenBy: taker?.node ?? null, takenEpoch: taker?.epoch ?? null },
      taker ? 'session closed: device taken over on another node' : 'session closed: revoked, or replaced and ended elsewhere',
    );
  }

  return {
    async open(deviceId, source, close) {
      pending.set(deviceId, (pending.get(deviceId) ?? 0) + 1);
      let claim: SessionClaim;
      try {
        claim = await claims.load({ deviceId, nodeId, source, at: clock.now() });
      } finally {
        const left = pending.get(deviceId)! - 1;
        if (left > 0) pending.set(deviceId, left);
        else pending.delete(deviceId);
      }
      const later = announced.get(deviceId);
      if (!pending.has(deviceId)) announced.delete(deviceId);
      if (later !== undefined && later > claim.epoch) {
        throw new SessionSupersededError(`session ${claim.epoch} of ${deviceId} was replaced by ${later} before it began`);
      }
      const current = held.get(deviceId);
      // On this node aedes itself closes the older connection of the same id [MQTT-3.1.4-2].
      if (!current || current.epoch < claim.epoch) held.set(deviceId, { epoch: claim.epoch, close });
      return claim.epoch;
    },
    revoke: (deviceId) => sessions.revoke(deviceId, clock.now()),
    closed(deviceId, epoch) {
      const current = held.get(deviceId);
      if (!current || current.epoch !== epoch) return;
      held.delete(deviceId);
      if (stopping) return;
      sessions.release(deviceId, epoch).catch((err: unknown) => log.warn({ err, deviceId }, 'session row not released (the next claim replaces it)'));
    },
    isStale(deviceId, epoch) {
      const current = held.get(deviceId);
      return (current !== undefined && current.epoch > epoch) || (announced.get(deviceId) ?? 0) > epoch || (current === undefined && !pending.has(deviceId));
    },
    notified(payload) {
      let notice: TakeoverNotice;
      try {
        notice = JSON.parse(payload) as TakeoverNotice;
        if (typeof notice.deviceId !== 'string' || !Number.isSafeInteger(notice.epoch) || typeof notice.node !== 'string') throw new Error('not a take-over notice');
      } catch (err) {
        log.warn({ err, payload: payload.slice(0, 200) }, 'session notice dropped');
        return;
      }
      if (notice.node === nodeId) return;
      const current = held.get(notice.deviceId);
      if (current && current.epoch < notice.epoch) {
        const taker = notice.node === REVOKED_HOLDER ? null : { epoch: notice.epoch, node: notice.node, source: String(notice.source), at: Number(notice.at) };
        supersede(notice.deviceId, current, 'notice', taker);
      } else if (pending.has(notice.deviceId)) {
        announced.set(notice.deviceId, Math.max(notice.epoch, announced.get(notice.deviceId) ?? 0));
      }
    },
    async reconcile() {
      // Only sessions whose claim committed before the read began can be judged by it.
      const snapshot = [...held];
      if (snapshot.length === 0) return 0;
      const mine = await sessions.heldBy(nodeId);
      const missing = snapshot.filter(([deviceId]) => !mine.has(deviceId));
      if (missing.length === 0) return 0;
      const rows = new Map((await sessions.holders(missing.map(([d]) => d))).map((r) => [r.deviceId, r]));
      let closed = 0;
      for (const [deviceId, session] of missing) {
        if (held.get(deviceId) !== session) continue; // closed, or replaced here, meanwhile
        const row = rows.get(deviceId);
        if (row && (row.nodeId === nodeId || row.epoch <= session.epoch)) continue;
        // No row at all: a later session elsewhere took it and has ended cleanly since.
        const taker = row && row.nodeId !== REVOKED_HOLDER ? { epoch: row.epoch, node: row.nodeId, source: row.source, at: row.connectedAt } : null;
        supersede(deviceId, session, 'reconcile', taker);
        closed++;
      }
      return closed;
    },
    held: () => held.size,
    async stop() {
      stopping = true;
      await sessions.releaseNode(nodeId).catch((err: unknown) => log.warn({ err }, 'session rows not released (the next claims replace them)'));
    },
  };
}

export interface SessionWatch {
  /** Resolves once the first LISTEN is in place (or its first attempt failed; it keeps retrying). */
  ready: Promise<void>;
  /** Runs a reconcile now (joining one under way). */
  reconcileNow(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Keeps a node's coordinator told: take-over notices as they come (LISTEN), and a reconcile every
 * `everyMs` and after each LISTEN (re)established — the notices sent while it was down are lost.
 */
export function startSessionWatch(deps: {
  coordinator: Pick<SessionCoordinator, 'notified' | 'reconcile'>;
  listen(handlers: { onNotification(payload: string): void; onListening(): void }): { ready: Promise<void>; stop(): Promise<void> };
  everyMs: number;
  log: Logger;
}): SessionWatch {
  let running: Promise<number> | undefined;
  const reconcileNow = (): Promise<number> =>
    (running ??= deps.coordinator
      .reconcile()
      .catch((err: unknown) => {
        // The registry is unreachable: the next period (or the LISTEN coming back) tries again.
        deps.log.warn({ err }, 'sessions not reconciled');
        return 0;
      })
      .finally(() => {
        running = undefined;
      }));
  const listener = deps.listen({ onNotification: (payload) => deps.coordinator.notified(payload), onListening: () => void reconcileNow() });
  const timer = setInterval(() => void reconcileNow(), deps.everyMs);
  timer.unref();
  return {
    ready: listener.ready,
    reconcileNow,
    async stop() {
      clearInterval(timer);
      await listener.stop();
      await running;
    },
  };
}
