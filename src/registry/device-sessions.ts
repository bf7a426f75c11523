import { sql, type RawBuilder } from 'kysely';
import { sqlIn } from '../db/sql-db.js';
import type { Migration } from '../db/sqlite.js';
import type { DialectName } from '../db/sql-db.js';
import type { RegistryContext } from './context.js';

/**
 * Registry migration 9 (issue 17): which node holds each device's MQTT session, across the
 * nodes sharing this registry. `epoch` grows by one at every authenticated CONNECT of the
 * device, on any node: it is the fencing token that tells a node its connection is no longer
 * the device's session (a heartbeat from a lower epoch is refused). `previous_node_id` is the
 * holder the last claim replaced — read back by that same statement, so a claim learns whom it
 * took the session from in one round trip on both databases (neither has `RETURNING old.*`
 * before PostgreSQL 18).
 */
export const deviceSessionsMigration: Migration = {
  version: 9,
  description: 'one MQTT session per device across gateway nodes, fenced by an epoch',
  up: `
    CREATE TABLE device_sessions (
      device_id TEXT PRIMARY KEY,
      epoch INTEGER NOT NULL CHECK (epoch >= 1),
      node_id TEXT NOT NULL,
      previous_node_id TEXT,
      connected_at INTEGER NOT NULL,
      source TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX device_sessions_node ON device_sessions (node_id);
  `,
};

/** PostgreSQL channel on which a claim that took a device from another node tells that node. */
export const SESSION_TAKEOVER_CHANNEL = 'gateway_session_takeover';

/**
 * The holder a revocation leaves in a device's row (its token rotated, or the device disabled):
 * no node — GATEWAY_NODE_ID cannot contain parentheses — so whichever node holds the session
 * closes it, from the notice or at its next reconcile, and records no take-over.
 */
export const REVOKED_HOLDER = '(revoked)';

export interface ClaimRequest {
  deviceId: string;
  nodeId: string;
  source: string;
  at: number;
}

export interface SessionClaim {
  epoch: number;
  /** The node that held the device's session before this claim (null: none, or released). */
  previousNodeId: string | null;
}

/** A device's current session row, as a node holding an older one reads it. */
export interface SessionHolder {
  deviceId: string;
  epoch: number;
  nodeId: string;
  connectedAt: number;
  source: string;
}

/** What a claim sends to the node it took the session from (JSON on SESSION_TAKEOVER_CHANNEL). */
export interface TakeoverNotice {
  deviceId: string;
  epoch: number;
  node: string;
  source: string;
  at: number;
}

export interface DeviceSessions {
  /**
   * Makes each claim's node the holder of its device's session with the next epoch: one statement
   * for distinct devices (no registry write lock: a claim touches only its device's row). On
   * PostgreSQL a claim that replaces another node notifies it in the same statement (delivered at
   * commit). Answers in the order of `claims`.
   */
  claimMany(claims: readonly ClaimRequest[]): Promise<SessionClaim[]>;
  /**
   * Ends the device's session wherever it is held (a rotated token, a disabled device): the row's
   * epoch is raised with no node as holder, and on PostgreSQL its holder is told at commit.
   */
  revoke(deviceId: string, at: number): Promise<void>;
  /** A session that ended cleanly: its row goes, unless a later claim already replaced it. */
  release(deviceId: string, epoch: number): Promise<void>;
  /** A node stopping cleanly gives up every session it still holds. */
  releaseNode(nodeId: string): Promise<void>;
  /** The epoch of every session `nodeId` holds, by device. */
  heldBy(nodeId: string): Promise<Map<string, number>>;
  /** The current rows of these devices (absent: no session row). */
  holders(deviceIds: readonly string[]): Promise<SessionHolder[]>;
}

interface ClaimedRow {
  device_id: string;
  epoch: number;
  previous_node_id: string | null;
}

interface HolderRow {
  device_id: string;
  epoch: number;
  node_id: string;
  connected_at: number;
  source: string;
}

/** Devices per `IN (…)` list of a reconcile (PostgreSQL allows 65,535 parameters a statement). */
const HOLDERS_CHUNK = 1000;

export function createDeviceSessions(ctx: Pick<RegistryContext, 'sql'>): DeviceSessions {
  const { sql: db } = ctx;
  return {
    async claimMany(claims) {
      const out: SessionClaim[] = new Array(claims.length);
      // One device twice in one upsert is refused by both databases ("cannot affect row a second
      // time"): repeats go in the next statement, in arrival order, so the later CONNECT gets the later epoch.
      for (const round of distinctRounds(claims)) {
        const rows = await db.all(claimStatement(db.dialect, round.map((i) => claims[i]!)));
        const byDevice = new Map(rows.map((r) => [r.device_id, r]));
        for (const i of round) {
          const row = byDevice.get(claims[i]!.deviceId)!;
          out[i] = { epoch: Number(row.epoch), previousNodeId: row.previous_node_id };
        }
      }
      return out;
    },
    async revoke(deviceId, at) {
      const revoked = sql`UPDATE device_sessions SET epoch = epoch + 1, previous_node_id = node_id, node_id = ${REVOKED_HOLDER}, connected_at = ${at}, source = ''
        WHERE device_id = ${deviceId} RETURNING device_id, epoch`;
      if (db.dialect !== 'postgres') return void (await db.run(revoked));
      await db.all(sql`WITH revoked AS (${revoked})
        SELECT pg_notify(${SESSION_TAKEOVER_CHANNEL}, json_build_object('deviceId', device_id, 'epoch', epoch, 'node', ${REVOKED_HOLDER}::text, 'source', '', 'at', ${at}::bigint)::text) FROM revoked`);
    },
    async release(deviceId, epoch) {
      await db.run(sql`DELETE FROM device_sessions WHERE device_id = ${deviceId} AND epoch = ${epoch}`);
    },
    async releaseNode(nodeId) {
      await db.run(sql`DELETE FROM device_sessions WHERE node_id = ${nodeId}`);
    },
    async heldBy(nodeId) {
      const rows = await db.all<{ device_id: string; epoch: number }>(sql`SELECT device_id, epoch FROM device_sessions WHERE node_id = ${nodeId}`);
      return new Map(rows.map((r) => [r.device_id, Number(r.epoch)]));
    },
    async holders(deviceIds) {
      const out: SessionHolder[] = [];
      for (let i = 0; i < deviceIds.length; i += HOLDERS_CHUNK) {
        const chunk = deviceIds.slice(i, i + HOLDERS_CHUNK);
        const rows = await db.all<HolderRow>(
          sql`SELECT device_id, epoch, node_id, connected_at, source FROM device_sessions WHERE device_id IN ${sqlIn(chunk)}`,
        );
        for (const r of rows) out.push({ deviceId: r.device_id, epoch: Number(r.epoch), nodeId: r.node_id, connectedAt: Number(r.connected_at), source: r.source });
      }
      return out;
    },
  };
}

/** Indexes of `claims` split into rounds in which each device appears once, in arrival order. */
function distinctRounds(claims: readonly ClaimRequest[]): number[][] {
  const rounds: number[][] = [];
  const seen = new Map<string, number>();
  claims.forEach((c, i) => {
    const round = seen.get(c.deviceId) ?? 0;
    seen.set(c.deviceId, round + 1);
    (rounds[round] ??= []).push(i);
  });
  return rounds;
}

/**
 * The claim upsert. `SET` expressions see the row as it is when the upsert locks it (PostgreSQL
 * re-reads a row a concurrent claim changed), so racing claims get consecutive epochs and each
 * names the holder it really replaced.
 */
function claimStatement(dialect: DialectName, claims: readonly ClaimRequest[]): RawBuilder<ClaimedRow> {
  const values = sql.join(claims.map((c) => sql`(${c.deviceId}, 1, ${c.nodeId}, NULL, ${c.at}, ${c.source})`));
  const upsert = sql<ClaimedRow>`INSERT INTO device_sessions (device_id, epoch, node_id, previous_node_id, connected_at, source)
    VALUES ${values}
    ON CONFLICT (device_id) DO UPDATE SET epoch = device_sessions.epoch + 1, previous_node_id = device_sessions.node_id,
      node_id = excluded.node_id, connected_at = excluded.connected_at, source = excluded.source
    RETURNING device_id, epoch, node_id, previous_node_id, connected_at, source`;
  if (dialect !== 'postgres') return upsert;
  return sql<ClaimedRow>`WITH claimed AS (${upsert})
    SELECT device_id, epoch, previous_node_id,
      CASE WHEN previous_node_id IS NOT NULL AND previous_node_id <> node_id
        THEN pg_notify(${SESSION_TAKEOVER_CHANNEL}, json_build_object('deviceId', device_id, 'epoch', epoch, 'node', node_id, 'source', source, 'at', connected_at)::text)
      END AS notified
    FROM claimed`;
}
