import { sql } from 'kysely';
import { sqlIn } from '../db/sql-db.js';
import { badRequest, notFound } from '../errors.js';
import { toShanghaiIso } from '../time/shanghai.js';
import type { Actor, RegistryContext } from './context.js';

/** A reviewer's recorded decision (SPEC rule 14): who, when, why. */
export interface ReviewNote {
  by: string;
  at: string;
  reason: string;
}

/** A serial registered under several contracts, as seen by a reviewer (never shown to suppliers). */
export interface DuplicateSerial {
  serial: string;
  /** In registration order (earliest first): the earliest counts until a reviewer assigns the serial. */
  registrations: Array<{ deviceId: string; contractId: string; supplierId: string; registeredAt: string }>;
  assignment: (ReviewNote & { contractId: string }) | null;
}

/** Facts about one duplicated serial from one contract's side: what the verifier may see. */
export interface SerialHold {
  registrations: number;
  countedHere: boolean;
  basis: 'earliest-registration' | 'reviewer';
}

export interface Reviews {
  /** Leaves a device out of its contract's count (reason required); audited. */
  excludeDevice(deviceId: string, reason: string, actor: Actor): Promise<ReviewNote & { deviceId: string; contractId: string }>;
  /** Counts the device again; audited with the reason. */
  includeDevice(deviceId: string, reason: string, actor: Actor): Promise<void>;
  exclusionsOf(contractId: string): Promise<Map<string, ReviewNote>>;
  /** Assigns a duplicated serial to one of the contracts it is registered under; audited. */
  assignSerial(serial: string, contractId: string, reason: string, actor: Actor): Promise<DuplicateSerial>;
  /** Serial → hold facts, for the given serials of `contractId` that are registered elsewhere too. */
  serialHolds(contractId: string, serials: readonly string[]): Promise<Map<string, SerialHold>>;
  /** Serial → the reviewer's assignment seen from `contractId`, for serials of the contract that have one. */
  assignmentsSeenFrom(contractId: string, serials: readonly string[]): Promise<Map<string, ReviewNote & { assignedHere: boolean }>>;
  duplicate(serial: string): Promise<DuplicateSerial | undefined>;
  /** Every duplicated serial (reviewer work list), optionally only those touching a contract. */
  duplicates(contractId?: string): Promise<DuplicateSerial[]>;
}

interface RegistrationRow {
  serial: string;
  device_id: string;
  contract_id: string;
  supplier_id: string;
  created_at: number;
}

const requireReason = (reason: string, path = 'body.reason'): string => {
  const trimmed = typeof reason === 'string' ? reason.trim() : '';
  if (!trimmed) throw badRequest('GW_ERR_REVIEW_REASON_REQUIRED', 'a reason is required', [{ path, message: 'required, not blank' }]);
  return trimmed;
};

/**
 * Serials per query: a contract's serials may be many, and the number of bound parameters is
 * limited (SQLite 32766, PostgreSQL 65535).
 */
const SERIALS_PER_QUERY = 1000;

async function inChunks<R>(values: readonly string[], query: (chunk: readonly string[]) => Promise<R[]>): Promise<R[]> {
  const rows: R[] = [];
  for (let i = 0; i < values.length; i += SERIALS_PER_QUERY) rows.push(...(await query(values.slice(i, i + SERIALS_PER_QUERY))));
  return rows;
}

export function createReviews(ctx: RegistryContext): Reviews {
  const { sql: db, clock, audit } = ctx;
  const deviceById = (deviceId: string) => db.one<{ id: string; contract_id: string }>(sql`SELECT id, contract_id FROM devices WHERE id = ${deviceId}`);
  const exclusionOf = (deviceId: string) => db.one<{ device_id: string }>(sql`SELECT device_id FROM device_exclusions WHERE device_id = ${deviceId}`);
  const deleteExclusion = (deviceId: string) => db.run(sql`DELETE FROM device_exclusions WHERE device_id = ${deviceId}`);

  type AssignmentRow = { serial: string; contract_id: string; reason: string; actor: string; at: number };
  const note = (row: { reason: string; actor: string; at: number }): ReviewNote => ({ by: row.actor, at: toShanghaiIso(row.at), reason: row.reason });

  const registrationsBySerial = async (serials: readonly string[]): Promise<Map<string, RegistrationRow[]>> => {
    const result = new Map<string, RegistrationRow[]>();
    const distinct = [...new Set(serials)].sort();
    // Registration order is rowid order (devices are never re-inserted; PostgreSQL's rowid is an identity column).
    const rows = await inChunks(distinct, (chunk) =>
      db.all<RegistrationRow>(sql`SELECT serial, id AS device_id, contract_id, supplier_id, created_at FROM devices
        WHERE serial IN ${sqlIn(chunk)} ORDER BY serial, rowid`),
    );
    for (const row of rows) {
      const list = result.get(row.serial) ?? [];
      list.push(row);
      result.set(row.serial, list);
    }
    for (const [serial, list] of result) if (new Set(list.map((r) => r.contract_id)).size < 2) result.delete(serial);
    return result;
  };
  const assignmentsBySerial = async (serials: readonly string[]): Promise<Map<string, AssignmentRow>> => {
    const rows = await inChunks([...new Set(serials)], (chunk) =>
      db.all<AssignmentRow>(sql`SELECT serial, contract_id, reason, actor, at FROM serial_assignments WHERE serial IN ${sqlIn(chunk)}`),
    );
    return new Map(rows.map((r) => [r.serial, r]));
  };

  const duplicate = async (serial: string): Promise<DuplicateSerial | undefined> => {
    const rows = (await registrationsBySerial([serial])).get(serial);
    if (!rows) return undefined;
    const assignment = await db.one<AssignmentRow>(sql`SELECT serial, contract_id, reason, actor, at FROM serial_assignments WHERE serial = ${serial}`);
    return {
      serial,
      registrations: rows.map((r) => ({ deviceId: r.device_id, contractId: r.contract_id, supplierId: r.supplier_id, registeredAt: toShanghaiIso(r.created_at) })),
      assignment: assignment ? { contractId: assignment.contract_id, ...note(assignment) } : null,
    };
  };

  return {
    excludeDevice: (deviceId, reason, actor) =>
      db.transaction(async () => {
        const why = requireReason(reason);
        const device = await deviceById(deviceId);
        if (!device) throw notFound('device', deviceId);
        if (await exclusionOf(deviceId)) await deleteExclusion(deviceId);
        const at = clock.now();
        await db.run(sql`INSERT INTO device_exclusions (device_id, contract_id, reason, actor, at) VALUES (${deviceId}, ${device.contract_id}, ${why}, ${actor}, ${at})`);
        await audit.append(actor, 'review.device.exclude', device.contract_id, { deviceId, reason: why });
        return { deviceId, contractId: device.contract_id, by: actor, at: toShanghaiIso(at), reason: why };
      }),

    includeDevice: (deviceId, reason, actor) =>
      db.transaction(async () => {
        const why = requireReason(reason);
        const device = await deviceById(deviceId);
        if (!device) throw notFound('device', deviceId);
        if (!(await exclusionOf(deviceId))) return;
        await deleteExclusion(deviceId);
        await audit.append(actor, 'review.device.include', device.contract_id, { deviceId, reason: why });
      }),

    exclusionsOf: async (contractId) =>
      new Map(
        (
          await db.all<{ device_id: string; reason: string; actor: string; at: number }>(
            sql`SELECT device_id, reason, actor, at FROM device_exclusions WHERE contract_id = ${contractId}`,
          )
        ).map((r) => [r.device_id, note(r)]),
      ),

    assignSerial: (serial, contractId, reason, actor) =>
      db.transaction(async () => {
        const why = requireReason(reason);
        const found = await duplicate(serial);
        if (!found) throw notFound('duplicated serial', serial);
        if (!found.registrations.some((r) => r.contractId === contractId)) {
          throw badRequest('GW_ERR_REVIEW_SERIAL_NOT_REGISTERED', `serial ${serial} is not registered under ${contractId}`, [
            { path: 'body.contractId', message: 'must be one of the contracts the serial is registered under' },
          ]);
        }
        await db.run(sql`INSERT INTO serial_assignments (serial, contract_id, reason, actor, at) VALUES (${serial}, ${contractId}, ${why}, ${actor}, ${clock.now()})
          ON CONFLICT (serial) DO UPDATE SET contract_id = excluded.contract_id, reason = excluded.reason, actor = excluded.actor, at = excluded.at`);
        // Audited under every contract the serial touches, so each one's history shows the decision.
        for (const c of new Set(found.registrations.map((r) => r.contractId))) {
          await audit.append(actor, 'review.serial.assign', c, { serial, assignedTo: c === contractId ? 'this-contract' : 'another-contract', reason: why });
        }
        return (await duplicate(serial))!;
      }),

    async serialHolds(contractId, serials) {
      const holds = new Map<string, SerialHold>();
      const registrations = await registrationsBySerial(serials);
      const assignments = await assignmentsBySerial([...registrations.keys()]);
      for (const [serial, rows] of registrations) {
        const assigned = assignments.get(serial);
        // The earliest registration holds the serial until a reviewer assigns it (README "Policy").
        const holder = assigned ? assigned.contract_id : rows[0]!.contract_id;
        holds.set(serial, { registrations: new Set(rows.map((r) => r.contract_id)).size, countedHere: holder === contractId, basis: assigned ? 'reviewer' : 'earliest-registration' });
      }
      return holds;
    },

    async assignmentsSeenFrom(contractId, serials) {
      const result = new Map<string, ReviewNote & { assignedHere: boolean }>();
      for (const [serial, row] of await assignmentsBySerial(serials)) result.set(serial, { ...note(row), assignedHere: row.contract_id === contractId });
      return result;
    },

    duplicate,

    async duplicates(contractId) {
      const serials = (
        contractId === undefined
          ? await db.all<{ serial: string }>(sql`SELECT serial FROM devices GROUP BY serial HAVING count(DISTINCT contract_id) > 1 ORDER BY serial`)
          : await db.all<{ serial: string }>(sql`SELECT serial FROM devices WHERE contract_id = ${contractId}`)
      ).map((r) => r.serial);
      const registrations = await registrationsBySerial(serials);
      const result: DuplicateSerial[] = [];
      for (const serial of [...registrations.keys()].sort()) result.push((await duplicate(serial))!);
      return result;
    },
  };
}
