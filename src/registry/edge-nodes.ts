import { timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { sqlIn } from '../db/sql-db.js';
import type { Migration } from '../db/sqlite.js';
import { AppError, badRequest, notFound } from '../errors.js';
import { toShanghaiIso } from '../time/shanghai.js';
import type { Actor, RegistryContext } from './context.js';
import { sha256, type TokenVerdict } from './devices.js';
import { newDeviceToken, newId } from './ids.js';
import { byCodeUnits, inChunks } from './sql-batches.js';

/**
 * Edge nodes (SPEC "Storage and scale", API.md "Edge gateways"): one credential that reports
 * for the registered devices bound to it — an edge gateway reading PLCs, or a supplier's own
 * platform. A device belongs to at most one edge node at a time; the binding table's primary
 * key is the device id, so the database itself refuses a second binding, and a trigger refuses
 * a binding across contracts. Every binding change is audited with what was added and removed.
 */
export const edgeNodesMigration: Migration = {
  version: 7,
  description: 'edge nodes (own credential) and their device bindings, one edge node per device',
  up: `
    CREATE TABLE edge_nodes (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      contract_id TEXT NOT NULL REFERENCES contracts (id),
      supplier_id TEXT NOT NULL REFERENCES suppliers (id),
      token_sha256 BLOB NOT NULL CHECK (length(token_sha256) = 32),
      enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
      created_at INTEGER NOT NULL
    );
    CREATE INDEX edge_nodes_contract ON edge_nodes (contract_id);

    CREATE TABLE edge_node_devices (
      device_id TEXT PRIMARY KEY REFERENCES devices (id),
      edge_node_id TEXT NOT NULL REFERENCES edge_nodes (id),
      bound_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX edge_node_devices_node ON edge_node_devices (edge_node_id);

    CREATE TRIGGER edge_node_devices_same_contract BEFORE INSERT ON edge_node_devices
      WHEN (SELECT contract_id FROM devices WHERE id = NEW.device_id)
        IS NOT (SELECT contract_id FROM edge_nodes WHERE id = NEW.edge_node_id)
      BEGIN SELECT RAISE(ABORT, 'a device binds only to an edge node of its own contract'); END;
  `,
};

export interface EdgeNode {
  /** `edg_` + 12 base32: MQTT client id, username and Sparkplug edge_node_id. */
  id: string;
  name: string;
  contractId: string;
  supplierId: string;
  enabled: boolean;
  createdAt: string;
  /** Bound device ids, sorted. */
  devices: string[];
}

export interface EdgeNodeInput {
  name: string;
  devices: string[];
}

/** The edge node with its token, returned exactly once. */
export interface IssuedEdgeNode extends EdgeNode {
  token: string;
}

/** What the broker needs about an edge node at CONNECT. */
export interface EdgeNodeAuthInfo {
  edgeNodeId: string;
  contractId: string;
  supplierId: string;
  enabled: boolean;
}

/** A device as an edge node may report it: bound to that node, with the facts a heartbeat carries. */
export interface EdgeBoundDevice {
  deviceId: string;
  contractId: string;
  supplierId: string;
  enabled: boolean;
}

export interface EdgeNodes {
  create(contractId: string, input: EdgeNodeInput, actor: Actor): Promise<IssuedEdgeNode>;
  /** Replaces the set of bound devices; returns the node and the devices that were unbound. */
  setDevices(id: string, devices: string[], actor: Actor): Promise<{ node: EdgeNode; removed: string[] }>;
  get(id: string): Promise<EdgeNode | undefined>;
  /** One query by primary key (called on every MQTT CONNECT of an edge node). */
  authInfo(id: string): Promise<EdgeNodeAuthInfo | undefined>;
  verifyToken(id: string, token: string): Promise<TokenVerdict>;
  /** The device if it is bound to this edge node now (one indexed lookup, called at DBIRTH and per batch entry). */
  boundDevice(edgeNodeId: string, deviceId: string): Promise<EdgeBoundDevice | undefined>;
}

interface NodeRow {
  id: string;
  name: string;
  contract_id: string;
  supplier_id: string;
  token_sha256: Buffer;
  enabled: number;
  created_at: number;
}

export function createEdgeNodes(ctx: RegistryContext): EdgeNodes {
  const { sql: db, clock, audit, log } = ctx;
  const absentDigest = Buffer.alloc(32);

  const row = (id: string) =>
    db.one<NodeRow>(sql`SELECT id, name, contract_id, supplier_id, token_sha256, enabled, created_at FROM edge_nodes WHERE id = ${id}`);
  // Sorted in code: device ids are [a-z0-9], but PostgreSQL's ORDER BY would follow its collation.
  const deviceIds = async (id: string) =>
    (await db.all<{ device_id: string }>(sql`SELECT device_id FROM edge_node_devices WHERE edge_node_id = ${id}`))
      .map((r) => r.device_id)
      .sort(byCodeUnits);
  const toNode = async (r: NodeRow): Promise<EdgeNode> => ({
    id: r.id,
    name: r.name,
    contractId: r.contract_id,
    supplierId: r.supplier_id,
    enabled: r.enabled === 1,
    createdAt: toShanghaiIso(r.created_at),
    devices: await deviceIds(r.id),
  });

  const bind = async (edgeNodeId: string, devices: readonly string[], now: number): Promise<void> => {
    for (const chunk of inChunks(devices)) {
      await db.run(sql`INSERT INTO edge_node_devices (device_id, edge_node_id, bound_at)
        VALUES ${sql.join(chunk.map((device) => sql`(${device}, ${edgeNodeId}, ${now})`))}`);
    }
  };

  /** Every requested device (at most MAX_DEVICES_PER_REQUEST, the request schema's limit) must exist under the node's contract and not be bound to another node. */
  async function checkDevices(edgeNodeId: string, contractId: string, devices: readonly string[]): Promise<void> {
    // Each device's contract and current binding, a chunk of devices per query.
    const found = new Map<string, { contract_id: string; edge_node_id: string | null }>();
    for (const chunk of inChunks([...new Set(devices)])) {
      const rows = await db.all<{ id: string; contract_id: string; edge_node_id: string | null }>(sql`
        SELECT d.id, d.contract_id, b.edge_node_id FROM devices d LEFT JOIN edge_node_devices b ON b.device_id = d.id
        WHERE d.id IN ${sqlIn(chunk)}`);
      for (const r of rows) found.set(r.id, r);
    }
    const unknown: string[] = [];
    const elsewhere: Array<{ device: string; edgeNode: string }> = [];
    const seen = new Set<string>();
    for (const id of devices) {
      if (seen.has(id)) {
        unknown.push(`${id} (repeated)`);
        continue;
      }
      seen.add(id);
      const device = found.get(id);
      if (!device || device.contract_id !== contractId) {
        unknown.push(id);
        continue;
      }
      if (device.edge_node_id !== null && device.edge_node_id !== edgeNodeId) elsewhere.push({ device: id, edgeNode: device.edge_node_id });
    }
    if (unknown.length) {
      throw badRequest(
        'GW_ERR_EDGE_UNKNOWN_DEVICE',
        `not registered devices of contract ${contractId}: ${unknown.join(', ')}`,
        unknown.map((id) => ({ path: 'body.devices', message: `${id} is not a registered device of contract ${contractId}` })),
      );
    }
    if (elsewhere.length) {
      // One edge node per device at a time: the supplier unbinds it from the other node first.
      throw new AppError(
        'GW_ERR_EDGE_DEVICE_BOUND_ELSEWHERE',
        `already bound to another edge node: ${elsewhere.map((e) => `${e.device} → ${e.edgeNode}`).join(', ')}`,
        { errors: elsewhere.map((e) => ({ path: 'body.devices', message: `${e.device} is bound to edge node ${e.edgeNode}` })) },
      );
    }
  }

  return {
    async create(contractId, input, actor) {
      const issued = await db.transaction(async () => {
        const contract = await db.one<{ id: string; supplier_id: string }>(sql`SELECT id, supplier_id FROM contracts WHERE id = ${contractId}`);
        if (!contract) throw notFound('contract', contractId);
        const id = newId('edg');
        await checkDevices(id, contractId, input.devices);
        const token = newDeviceToken();
        const now = clock.now();
        await db.run(sql`INSERT INTO edge_nodes (id, name, contract_id, supplier_id, token_sha256, enabled, created_at)
          VALUES (${id}, ${input.name}, ${contractId}, ${contract.supplier_id}, ${sha256(token)}, 1, ${now})`);
        await bind(id, input.devices, now);
        await audit.append(actor, 'edge-node.create', id, { contractId, name: input.name, devices: input.devices });
        return { ...(await toNode((await row(id))!)), token };
      });
      log.info({ contractId, edgeNodeId: issued.id, devices: issued.devices.length }, 'edge node registered');
      return issued;
    },

    setDevices(id, devices, actor) {
      return db.transaction(async () => {
        const node = await row(id);
        if (!node) throw notFound('edge node', id);
        await checkDevices(id, node.contract_id, devices);
        const before = new Set(await deviceIds(id));
        const after = new Set(devices);
        const removed = [...before].filter((d) => !after.has(d));
        const added = devices.filter((d) => !before.has(d));
        const now = clock.now();
        for (const chunk of inChunks(removed)) {
          await db.run(sql`DELETE FROM edge_node_devices WHERE edge_node_id = ${id} AND device_id IN ${sqlIn(chunk)}`);
        }
        await bind(id, added, now);
        if (removed.length || added.length) {
          await audit.append(actor, 'edge-node.bind', id, { contractId: node.contract_id, added, removed });
        }
        return { node: await toNode((await row(id))!), removed };
      });
    },

    async get(id) {
      const r = await row(id);
      return r && toNode(r);
    },

    async authInfo(id) {
      const r = await row(id);
      return r && { edgeNodeId: r.id, contractId: r.contract_id, supplierId: r.supplier_id, enabled: r.enabled === 1 };
    },

    async verifyToken(id, token) {
      const r = await row(id);
      const matches = timingSafeEqual(sha256(token), r ? r.token_sha256 : absentDigest);
      if (!r) return 'unknown-device';
      if (!matches) return 'bad-token';
      return r.enabled === 1 ? 'ok' : 'disabled';
    },

    async boundDevice(edgeNodeId, deviceId) {
      const r = await db.one<{ id: string; contract_id: string; supplier_id: string; enabled: number }>(sql`
        SELECT d.id, d.contract_id, d.supplier_id, d.enabled FROM edge_node_devices b JOIN devices d ON d.id = b.device_id
        WHERE b.device_id = ${deviceId} AND b.edge_node_id = ${edgeNodeId}`);
      return r && { deviceId: r.id, contractId: r.contract_id, supplierId: r.supplier_id, enabled: r.enabled === 1 };
    },
  };
}
