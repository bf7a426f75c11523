import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError, badRequest, notFound } from '../errors.js';
import { toShanghaiIso } from '../time/shanghai.js';
import type { Actor, RegistryContext } from './context.js';
import { newDeviceId, newDeviceToken } from './ids.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './pagination.js';
import { monotonicMs } from '../clock.js';

export const MAX_DEVICES_PER_REQUEST = 10_000;

export interface Device {
  /** `d` + 16 hex: MQTT client id = username = topic segment. */
  id: string;
  /** The supplier's hardware serial. Unique within a supplier. */
  serial: string;
  model: string | null;
  name: string | null;
  contractId: string;
  supplierId: string;
  enabled: boolean;
  createdAt: string;
}

export interface DeviceInput {
  serial: string;
  model?: string;
  name?: string;
}

/** A device's credential, returned exactly once (at registration or rotation). */
export interface IssuedDevice {
  id: string;
  serial: string;
  token: string;
}

/** What the broker needs at CONNECT, from one indexed lookup. */
export interface DeviceAuthInfo {
  deviceId: string;
  tokenSha256: Buffer;
  enabled: boolean;
  contractId: string;
  supplierId: string;
}

export type TokenVerdict = 'ok' | 'unknown-device' | 'disabled' | 'bad-token';

export interface Devices {
  /** Registers a batch in one transaction; 409 naming every serial the supplier already has (or repeats). */
  register(contractId: string, devices: DeviceInput[], actor: Actor): IssuedDevice[];
  get(id: string): Device | undefined;
  /** Id and serial of every device of a contract, unpaginated, in registration order: what a verification needs. */
  serialsByContract(contractId: string): Array<{ id: string; serial: string }>;
  pageByContract(contractId: string, page?: PageRequest): Page<Device>;
  countByContract(contractId: string): number;
  setEnabled(id: string, enabled: boolean, actor: Actor): Device;
  /** Issues a new token; the old one stops working at once. */
  rotateToken(id: string, actor: Actor): IssuedDevice;
  /**
   * Synchronous, one prepared-statement lookup by primary key (called on every MQTT CONNECT).
   * Deliberately uncached: a lookup costs microseconds, so 10,000 reconnecting devices cost
   * milliseconds, and without a cache a disable or rotation takes effect at the next CONNECT.
   */
  authInfo(deviceId: string): DeviceAuthInfo | undefined;
  verifyToken(deviceId: string, token: string): TokenVerdict;
  /** Serials registered under more than one contract (necessarily across suppliers) → those contracts. */
  duplicateSerials(serials: readonly string[]): Map<string, string[]>;
}

interface DeviceRow {
  rowid: number;
  id: string;
  serial: string;
  model: string | null;
  name: string | null;
  contract_id: string;
  supplier_id: string;
  enabled: number;
  created_at: number;
}

function fromRow(row: DeviceRow): Device {
  return {
    id: row.id,
    serial: row.serial,
    model: row.model,
    name: row.name,
    contractId: row.contract_id,
    supplierId: row.supplier_id,
    enabled: row.enabled === 1,
    createdAt: toShanghaiIso(row.created_at),
  };
}

/**
 * Tokens are 128-bit random secrets, so a fast hash is the right one: nothing can be guessed,
 * and a slow password hash would make 10,000 devices reconnecting at once a CPU storm.
 */
export function sha256(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

const DEVICE_COLUMNS = 'rowid, id, serial, model, name, contract_id, supplier_id, enabled, created_at';

export function createDevices(ctx: RegistryContext): Devices {
  const { db, clock, audit, log } = ctx;
  const contractById = db.prepare('SELECT id, supplier_id FROM contracts WHERE id = ?');
  const insert = db.prepare(`INSERT INTO devices (id, serial, model, name, contract_id, supplier_id, token_sha256, enabled, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)`);
  const serialTaken = db.prepare('SELECT id, contract_id FROM devices WHERE supplier_id = ? AND serial = ?');
  const byId = db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`);
  const serialsOfContract = db.prepare('SELECT id, serial FROM devices WHERE contract_id = ? ORDER BY rowid');
  const pageOfContract = db.prepare(
    `SELECT ${DEVICE_COLUMNS} FROM devices WHERE contract_id = ? AND rowid > ? ORDER BY rowid LIMIT ?`,
  );
  const count = db.prepare('SELECT count(*) AS n FROM devices WHERE contract_id = ?');
  const setEnabledStmt = db.prepare('UPDATE devices SET enabled = ? WHERE id = ?');
  const setToken = db.prepare('UPDATE devices SET token_sha256 = ? WHERE id = ?');
  const auth = db.prepare('SELECT id, token_sha256, enabled, contract_id, supplier_id FROM devices WHERE id = ?');
  // Only rows whose serial is also under another contract come back, so a 1,000-device
  // verification does not materialise 1,000 rows to find the few duplicates.
  const serialContracts = db.prepare(`
    SELECT d.serial, d.contract_id FROM devices d
    WHERE d.serial IN (SELECT DISTINCT value FROM json_each(?))
      AND EXISTS (SELECT 1 FROM devices o WHERE o.serial = d.serial AND o.contract_id <> d.contract_id)
    ORDER BY d.serial, d.rowid`);

  // Compared against when the device is unknown, so that case costs the same as a wrong token.
  const absentDigest = Buffer.alloc(32);

  const get = (id: string): Device | undefined => {
    const row = byId.get(id) as DeviceRow | undefined;
    return row && fromRow(row);
  };

  const authInfo = (deviceId: string): DeviceAuthInfo | undefined => {
    const row = auth.get(deviceId) as
      | { id: string; token_sha256: Buffer; enabled: number; contract_id: string; supplier_id: string }
      | undefined;
    if (!row) return undefined;
    return {
      deviceId: row.id,
      tokenSha256: row.token_sha256,
      enabled: row.enabled === 1,
      contractId: row.contract_id,
      supplierId: row.supplier_id,
    };
  };

  return {
    register(contractId, devices, actor) {
      if (devices.length === 0 || devices.length > MAX_DEVICES_PER_REQUEST) {
        throw badRequest('GW_ERR_REGISTRY_BATCH_SIZE', `register 1..${MAX_DEVICES_PER_REQUEST} devices per call`, [
          { path: 'body.devices', message: `must hold 1..${MAX_DEVICES_PER_REQUEST} devices, got ${devices.length}` },
        ]);
      }
      const started = monotonicMs();
      const issued = db.transaction(() => {
        const contract = contractById.get(contractId) as { id: string; supplier_id: string } | undefined;
        if (!contract) throw notFound('contract', contractId);
        const supplierId = contract.supplier_id;

        const seen = new Set<string>();
        const repeated = new Set<string>();
        const registered = new Set<string>();
        for (const device of devices) {
          if (seen.has(device.serial)) repeated.add(device.serial);
          seen.add(device.serial);
          if (serialTaken.get(supplierId, device.serial)) registered.add(device.serial);
        }
        if (repeated.size > 0 || registered.size > 0) {
          const serials = [...new Set([...registered, ...repeated])];
          const parts = [
            registered.size > 0 ? `already registered by this supplier: ${[...registered].join(', ')}` : '',
            repeated.size > 0 ? `repeated in the request: ${[...repeated].join(', ')}` : '',
          ].filter(Boolean);
          throw new AppError('GW_ERR_REGISTRY_DUPLICATE_SERIAL', `duplicate serials (${parts.join('; ')})`, {
            errors: serials.map((serial) => ({
              path: 'body.devices',
              message: `serial ${serial} is ${registered.has(serial) ? 'already registered by this supplier' : 'repeated in the request'}`,
            })),
          });
        }

        const now = clock.now();
        const out: IssuedDevice[] = [];
        for (const device of devices) {
          const id = newDeviceId();
          const token = newDeviceToken();
          insert.run(id, device.serial, device.model ?? null, device.name ?? null, contractId, supplierId, sha256(token), now);
          out.push({ id, serial: device.serial, token });
        }
        audit.append(actor, 'device.register', contractId, {
          supplierId,
          count: out.length,
          deviceIds: out.map((d) => d.id),
        });
        return out;
      })();
      log.info({ contractId, devices: issued.length, ms: Math.round(monotonicMs() - started) }, 'devices registered');
      return issued;
    },

    get,

    serialsByContract: (contractId) => serialsOfContract.all(contractId) as Array<{ id: string; serial: string }>,

    pageByContract(contractId, request) {
      const limit = pageLimit(request);
      const rows = pageOfContract.all(contractId, decodeCursor(request?.cursor), limit + 1) as DeviceRow[];
      return toPage(rows, limit, fromRow);
    },

    countByContract: (contractId) => (count.get(contractId) as { n: number }).n,

    setEnabled: (id, enabled, actor) =>
      db.transaction(() => {
        const before = get(id);
        if (!before) throw notFound('device', id);
        if (before.enabled !== enabled) {
          setEnabledStmt.run(enabled ? 1 : 0, id);
          audit.append(actor, enabled ? 'device.enable' : 'device.disable', id, { contractId: before.contractId });
        }
        return get(id)!;
      })(),

    rotateToken: (id, actor) =>
      db.transaction(() => {
        const device = get(id);
        if (!device) throw notFound('device', id);
        const token = newDeviceToken();
        setToken.run(sha256(token), id);
        audit.append(actor, 'device.token.rotate', id, { contractId: device.contractId });
        return { id, serial: device.serial, token };
      })(),

    authInfo,

    verifyToken(deviceId, token) {
      const info = authInfo(deviceId);
      const presented = sha256(token);
      const matches = timingSafeEqual(presented, info ? info.tokenSha256 : absentDigest);
      if (!info) return 'unknown-device';
      if (!matches) return 'bad-token';
      return info.enabled ? 'ok' : 'disabled';
    },

    duplicateSerials(serials) {
      const result = new Map<string, string[]>();
      if (serials.length === 0) return result;
      const rows = serialContracts.all(JSON.stringify(serials)) as { serial: string; contract_id: string }[];
      const bySerial = new Map<string, string[]>();
      for (const row of rows) {
        const contracts = bySerial.get(row.serial) ?? [];
        if (!contracts.includes(row.contract_id)) contracts.push(row.contract_id);
        bySerial.set(row.serial, contracts);
      }
      for (const [serial, contracts] of bySerial) if (contracts.length > 1) result.set(serial, contracts);
      return result;
    },
  };
}
