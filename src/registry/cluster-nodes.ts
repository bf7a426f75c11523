import { sql } from 'kysely';
import type { Migration } from '../db/sqlite.js';
import { toShanghaiIso } from '../time/shanghai.js';
import type { RegistryContext } from './context.js';

/**
 * Registry migration 8 (issue 17): the gateway nodes sharing this registry. Each node refreshes
 * its own row every few seconds; a row not refreshed for a while is a node that is gone (its
 * process killed) — readers judge liveness by `last_seen`, nothing deletes for them.
 */
export const clusterNodesMigration: Migration = {
  version: 8,
  description: 'gateway nodes sharing the registry, each refreshing its own row',
  up: `
    CREATE TABLE cluster_nodes (
      id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
      pid INTEGER NOT NULL,
      host TEXT NOT NULL,
      mqtt_port INTEGER NOT NULL,
      http_port INTEGER NOT NULL,
      started_at INTEGER NOT NULL,
      last_seen INTEGER NOT NULL,
      connected_devices INTEGER NOT NULL CHECK (connected_devices >= 0),
      heartbeats_per_second REAL NOT NULL CHECK (heartbeats_per_second >= 0)
    ) WITHOUT ROWID;
  `,
};

export interface NodeAnnouncement {
  id: string;
  pid: number;
  host: string;
  mqttPort: number;
  httpPort: number;
  startedAt: number;
  connectedDevices: number;
  heartbeatsPerSecond: number;
}

export interface ClusterNode {
  id: string;
  pid: number;
  host: string;
  mqttPort: number;
  httpPort: number;
  startedAt: string;
  lastSeen: string;
  connectedDevices: number;
  heartbeatsPerSecond: number;
}

export interface ClusterNodes {
  /** Creates or refreshes the node's row, stamped now (the injected clock). */
  announce(node: NodeAnnouncement): Promise<void>;
  /** Nodes seen within `liveWithinMs` of now, by id. */
  live(liveWithinMs: number): Promise<ClusterNode[]>;
  /** A node leaving on purpose (a clean stop) takes its row with it. */
  leave(id: string): Promise<void>;
}

interface NodeRow {
  id: string;
  pid: number;
  host: string;
  mqtt_port: number;
  http_port: number;
  started_at: number;
  last_seen: number;
  connected_devices: number;
  heartbeats_per_second: number;
}

export function createClusterNodes(ctx: Pick<RegistryContext, 'sql' | 'clock'>): ClusterNodes {
  const { sql: db, clock } = ctx;
  return {
    // Not a registry write transaction: a node's own row, refreshed every few seconds, must not queue behind the registry's lock.
    async announce(node) {
      await db.run(sql`INSERT INTO cluster_nodes (id, pid, host, mqtt_port, http_port, started_at, last_seen, connected_devices, heartbeats_per_second)
        VALUES (${node.id}, ${node.pid}, ${node.host}, ${node.mqttPort}, ${node.httpPort}, ${node.startedAt}, ${clock.now()}, ${node.connectedDevices}, ${node.heartbeatsPerSecond})
        ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, mqtt_port = excluded.mqtt_port, http_port = excluded.http_port,
          started_at = excluded.started_at, last_seen = excluded.last_seen, connected_devices = excluded.connected_devices,
          heartbeats_per_second = excluded.heartbeats_per_second`);
    },
    async live(liveWithinMs) {
      const rows = await db.all<NodeRow>(sql`SELECT * FROM cluster_nodes WHERE last_seen >= ${clock.now() - liveWithinMs}`);
      return rows
        .map((r) => ({
          id: r.id,
          pid: r.pid,
          host: r.host,
          mqttPort: r.mqtt_port,
          httpPort: r.http_port,
          startedAt: toShanghaiIso(r.started_at),
          lastSeen: toShanghaiIso(r.last_seen),
          connectedDevices: r.connected_devices,
          heartbeatsPerSecond: r.heartbeats_per_second,
        }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async leave(id) {
      await db.run(sql`DELETE FROM cluster_nodes WHERE id = ${id}`);
    },
  };
}
