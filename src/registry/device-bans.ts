import { sql } from 'kysely';
import type { Migration } from '../db/sqlite.js';
import type { RegistryContext } from './context.js';

/**
 * Registry migration 10 (issue 17, "limits across nodes"): device ids banned for flapping, shared
 * by every node of the registry. A node counts a device's CONNECTs on its own (broker/
 * flood-control.ts) and, when it bans the device, writes the ban here; every node reads the ban
 * with the device's CONNECT look-up it makes anyway (the `authInfoMany` join), so a device that
 * moves to another node is refused there too. Keyed by client id without a foreign key: an edge
 * node's id (issue 20) flaps and is banned the same way. One row per id ever banned: the table is
 * bounded by the registered ids, and an expired row is simply overwritten by the next ban.
 */
export const deviceBansMigration: Migration = {
  version: 10,
  description: 'device ids banned for flapping, shared by the nodes of the registry',
  up: `
    CREATE TABLE device_bans (
      device_id TEXT PRIMARY KEY CHECK (length(device_id) BETWEEN 1 AND 200),
      until_ms INTEGER NOT NULL CHECK (until_ms > 0),
      reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 40),
      node_id TEXT NOT NULL CHECK (length(node_id) BETWEEN 1 AND 200)
    ) WITHOUT ROWID;
  `,
};

export interface DeviceBan {
  deviceId: string;
  /** End of the ban, epoch ms. */
  untilMs: number;
  reason: string;
  /** The node that decided it (GATEWAY_NODE_ID). */
  nodeId: string;
}

export interface DeviceBans {
  /** Records a ban; a ban already recorded that ends later is kept (two nodes banning at once). */
  ban(ban: DeviceBan): Promise<void>;
  /** The end of the device id's ban if it lasts beyond now (the injected clock). */
  activeUntil(deviceId: string): Promise<number | undefined>;
}

export function createDeviceBans(ctx: Pick<RegistryContext, 'sql' | 'clock'>): DeviceBans {
  const { sql: db, clock } = ctx;
  return {
    // Not a registry write transaction: a ban is one row, and must not queue behind the registry's lock.
    async ban(b) {
      await db.run(sql`INSERT INTO device_bans (device_id, until_ms, reason, node_id)
        VALUES (${b.deviceId}, ${b.untilMs}, ${b.reason}, ${b.nodeId})
        ON CONFLICT (device_id) DO UPDATE SET until_ms = excluded.until_ms, reason = excluded.reason, node_id = excluded.node_id
        WHERE excluded.until_ms > device_bans.until_ms`);
    },
    async activeUntil(deviceId) {
      const row = await db.one<{ until_ms: number }>(sql`SELECT until_ms FROM device_bans WHERE device_id = ${deviceId} AND until_ms > ${clock.now()}`);
      return row?.until_ms;
    },
  };
}
