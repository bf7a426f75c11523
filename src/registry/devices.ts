import { createHash, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { sqlIn } from '../db/sql-db.js';
import { AppError, badRequest, notFound } from '../errors.js';
import { toShanghaiIso } from '../time/shanghai.js';
import type { Actor, RegistryContext } from './context.js';
import { newDeviceId, newDeviceToken } from './ids.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './pagination.js';
import { monotonicMs } from '../clock.js';
import { byCodeUnits, inChunks } from './sql-batches.js';

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
  /**
   * End (epoch ms) of the device's flapping ban recorded by any node (device-bans.ts), read in the
   * same query as the token so a ban costs no look-up of its own per CONNECT; undefined when it
   * was never banned. The caller compares it with its clock.
   */
  bannedUntil?: number;
}

export type TokenVerdict = 'ok' | 'unknown-device' | 'disabled' | 'bad-token';

export interface Devices {
  /** Registers a batch in one transaction; 409 naming every serial the supplier already has (or repeats). */
  register(contractId: string, devices: DeviceInput[], actor: Actor): Promise<IssuedDevice[]>;
  get(id: string): Promise<Device | undefined>;
  /** Id and serial of every device of a contract, unpaginated, in registration order: what a verification needs. */
  serialsByContract(contractId: string): Promise<Array<{ id: string; serial: string }>>;
  pageByContract(contractId: string, page?: PageRequest): Promise<Page<Device>>;
  countByContract(contractId: string): Promise<number>;
  setEnabled(id: string, enabled: boolean, actor: Actor): Promise<Device>;
  /** Issues a new token; the old one stops working at once. */
  rotateToken(id: string, actor: Actor): Promise<IssuedDevice>;
  /**
   * One query by primary key (called on every MQTT CONNECT). Deliberately uncached: an indexed
   * lookup costs well under a millisecond, so 10,000 reconnecting devices cost little, and
   * without a cache a disable or rotation takes effect at the next CONNECT.
   */
  authInfo(deviceId: string): Promise<DeviceAuthInfo | undefined>;
  verifyToken(deviceId: string, token: string): Promise<TokenVerdict>;
  /** `authInfo` of many devices in one query (a connect storm's look-ups, batched by the broker's directory). */
  authInfoMany(deviceIds: readonly string[]): Promise<Map<string, DeviceAuthInfo>>;
  /** Serials registered under more than one contract (necessarily across suppliers) → those contracts. */
  duplicateSerials(serials: readonly string[]): Promise<Map<string, string[]>>;
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

const DEVICE_COLUMNS = sql.raw('rowid, id, serial, model, name, contract_id, supplier_id, enabled, created_at');

const ABSENT_DIGEST = Buffer.alloc(32);

/**
 * A presented device token against the stored digest, in constant time whether or not the device
 * exists (no timing oracle for device ids), then the verdict.
 */
export function judgeDeviceToken(info: DeviceAuthInfo | undefined, token: string): TokenVerdict {
  const matches = timingSafeEqual(sha256(token), info ? info.tokenSha256 : ABSENT_DIGEST);
  if (!info) return 'unknown-device';
  if (!matches) return 'bad-token';
  return info.enabled ? 'ok' : 'disabled';
}

export function createDevices(ctx: RegistryContext): Devices {
  const { sql: db, clock, audit, log } = ctx;

  // Compared against when the device is unknown, so that case costs the same as a wrong token.

  const get = async (id: string): Promise<Device | undefined> => {
    const row = await db.one<DeviceRow>(sql`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ${id}`);
    return row && fromRow(row);
  };

  type AuthRow = { id: string; token_sha256: Buffer; enabled: number; contract_id: string; supplier_id: string; banned_until: number | null };
  const authFromRow = (row: AuthRow): DeviceAuthInfo => ({
    deviceId: row.id,
    tokenSha256: row.token_sha256,
    enabled: row.enabled === 1,
    contractId: row.contract_id,
    supplierId: row.supplier_id,
    ...(row.banned_until === null ? {} : { bannedUntil: row.banned_until }),
  });
  // The device's shared flapping ban rides along with its token (a primary-key join, no second round trip).
  const AUTH_FROM = sql`SELECT d.id, d.token_sha256, d.enabled, d.contract_id, d.supplier_id, b.until_ms AS banned_until
    FROM devices d LEFT JOIN device_bans b ON b.device_id = d.id`;
  const authInfo = async (deviceId: string): Promise<DeviceAuthInfo | undefined> => {
    const row = await db.one<AuthRow>(sql`${AUTH_FROM} WHERE d.id = ${deviceId}`);
    return row && authFromRow(row);
  };

  /** Which of `serials` the supplier has registered already (UNIQUE (supplier_id, serial) index). */
  const takenSerials = async (supplierId: string, serials: readonly string[]): Promise<Set<string>> => {
    const taken = new Set<string>();
    for (const chunk of inChunks([...new Set(serials)])) {
      const rows = await db.all<{ serial: string }>(
        sql`SELECT serial FROM devices WHERE supplier_id = ${supplierId} AND serial IN ${sqlIn(chunk)}`,
      );
      for (const row of rows) taken.add(row.serial);
    }
    return taken;
  };

  return {
    async register(contractId, devices, actor) {
      if (devices.length === 0 || devices.length > MAX_DEVICES_PER_REQUEST) {
        throw badRequest('GW_ERR_REGISTRY_BATCH_SIZE', `register 1..${MAX_DEVICES_PER_REQUEST} devices per call`, [
          { path: 'body.devices', message: `must hold 1..${MAX_DEVICES_PER_REQUEST} devices, got ${devices.length}` },
        ]);
      }
      const started = monotonicMs();
      const issued = await db.transaction(async () => {
        const contract = await db.one<{ id: string; supplier_id: string }>(sql`SELECT id, supplier_id FROM contracts WHERE id = ${contractId}`);
        if (!contract) throw notFound('contract', contractId);
        const supplierId = contract.supplier_id;

        const taken = await takenSerials(supplierId, devices.map((d) => d.serial));
        const seen = new Set<string>();
        const repeated = new Set<string>();
        const registered = new Set<string>();
        for (const device of devices) {
          if (seen.has(device.serial)) repeated.add(device.serial);
          seen.add(device.serial);
          if (taken.has(device.serial)) registered.add(device.serial);
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
        const rows = devices.map((device) => {
          const id = newDeviceId();
          const token = newDeviceToken();
          out.push({ id, serial: device.serial, token });
          return sql`(${id}, ${device.serial}, ${device.model ?? null}, ${device.name ?? null}, ${contractId}, ${supplierId}, ${sha256(token)}, 1, ${now})`;
        });
        // Multi-row INSERTs in registration order (rowid order is the listing order).
        for (const chunk of inChunks(rows)) {
          await db.run(sql`INSERT INTO devices (id, serial, model, name, contract_id, supplier_id, token_sha256, enabled, created_at)
            VALUES ${sql.join(chunk)}`);
        }
        await audit.append(actor, 'device.register', contractId, {
          supplierId,
          count: out.length,
          deviceIds: out.map((d) => d.id),
        });
        return out;
      });
      log.info({ contractId, devices: issued.length, ms: Math.round(monotonicMs() - started) }, 'devices registered');
      return issued;
    },

    get,

    serialsByContract: (contractId) =>
      db.all<{ id: string; serial: string }>(sql`SELECT id, serial FROM devices WHERE contract_id = ${contractId} ORDER BY rowid`),

    async pageByContract(contractId, request) {
      const limit = pageLimit(request);
      const rows = await db.all<DeviceRow>(
        sql`SELECT ${DEVICE_COLUMNS} FROM devices WHERE contract_id = ${contractId} AND rowid > ${decodeCursor(request?.cursor)}
          ORDER BY rowid LIMIT ${limit + 1}`,
      );
      return toPage(rows, limit, fromRow);
    },

    async countByContract(contractId) {
      const row = await db.one<{ n: number }>(sql`SELECT count(*) AS n FROM devices WHERE contract_id = ${contractId}`);
      return Number(row!.n);
    },

    setEnabled: (id, enabled, actor) =>
      db.transaction(async () => {
        const before = await get(id);
        if (!before) throw notFound('device', id);
        if (before.enabled !== enabled) {
          await db.run(sql`UPDATE devices SET enabled = ${enabled ? 1 : 0} WHERE id = ${id}`);
          await audit.append(actor, enabled ? 'device.enable' : 'device.disable', id, { contractId: before.contractId });
        }
        return (await get(id))!;
      }),

    rotateToken: (id, actor) =>
      db.transaction(async () => {
        const device = await get(id);
        if (!device) throw notFound('device', id);
        const token = newDeviceToken();
        await db.run(sql`UPDATE devices SET token_sha256 = ${sha256(token)} WHERE id = ${id}`);
        await audit.append(actor, 'device.token.rotate', id, { contractId: device.contractId });
        return { id, serial: device.serial, token };
      }),

    authInfo,

    verifyToken: async (deviceId, token) => judgeDeviceToken(await authInfo(deviceId), token),

    async authInfoMany(deviceIds) {
      const found = new Map<string, DeviceAuthInfo>();
      for (const chunk of inChunks([...new Set(deviceIds)])) {
        const rows = await db.all<AuthRow>(sql`${AUTH_FROM} WHERE d.id IN ${sqlIn(chunk)}`);
        for (const row of rows) found.set(row.id, authFromRow(row));
      }
      return found;
    },

    async duplicateSerials(serials) {
      const result = new Map<string, string[]>();
      const bySerial = new Map<string, string[]>();
      for (const chunk of inChunks([...new Set(serials)])) {
        // Only rows whose serial is also under another contract come back, so a 1,000-device
        // verification does not materialise 1,000 rows to find the few duplicates.
        const rows = await db.all<{ serial: string; contract_id: string }>(sql`
          SELECT d.serial, d.contract_id FROM devices d
          WHERE d.serial IN ${sqlIn(chunk)}
            AND EXISTS (SELECT 1 FROM devices o WHERE o.serial = d.serial AND o.contract_id <> d.contract_id)
          ORDER BY d.rowid`);
        for (const row of rows) {
          const contracts = bySerial.get(row.serial) ?? [];
          if (!contracts.includes(row.contract_id)) contracts.push(row.contract_id);
          bySerial.set(row.serial, contracts);
        }
      }
      // Serials sorted in code, not by ORDER BY: PostgreSQL would sort by its collation, SQLite bytewise.
      for (const serial of [...bySerial.keys()].sort(byCodeUnits)) {
        const contracts = bySerial.get(serial)!;
        if (contracts.length > 1) result.set(serial, contracts);
      }
      return result;
    },
  };
}
