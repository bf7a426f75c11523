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
  excludeDevice(deviceId: string, reason: string, actor: Actor): ReviewNote & { deviceId: string; contractId: string };
  /** Counts the device again; audited with the reason. */
  includeDevice(deviceId: string, reason: string, actor: Actor): void;
  exclusionsOf(contractId: string): Map<string, ReviewNote>;
  /** Assigns a duplicated serial to one of the contracts it is registered under; audited. */
  assignSerial(serial: string, contractId: string, reason: string, actor: Actor): DuplicateSerial;
  /** Serial → hold facts, for the given serials of `contractId` that are registered elsewhere too. */
  serialHolds(contractId: string, serials: readonly string[]): Map<string, SerialHold>;
  /** Serial → the reviewer's assignment seen from `contractId`, for serials of the contract that have one. */
  assignmentsSeenFrom(contractId: string, serials: readonly string[]): Map<string, ReviewNote & { assignedHere: boolean }>;
  duplicate(serial: string): DuplicateSerial | undefined;
  /** Every duplicated serial (reviewer work list), optionally only those touching a contract. */
  duplicates(contractId?: string): DuplicateSerial[];
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

export function createReviews(ctx: RegistryContext): Reviews {
  const { db, clock, audit } = ctx;
  const deviceById = db.prepare('SELECT id, contract_id, supplier_id FROM devices WHERE id = ?');
  const exclusionOf = db.prepare('SELECT * FROM device_exclusions WHERE device_id = ?');
  const insertExclusion = db.prepare('INSERT INTO device_exclusions (device_id, contract_id, reason, actor, at) VALUES (?, ?, ?, ?, ?)');
  const deleteExclusion = db.prepare('DELETE FROM device_exclusions WHERE device_id = ?');
  const exclusionsOfContract = db.prepare('SELECT device_id, reason, actor, at FROM device_exclusions WHERE contract_id = ?');
  // Registration order is rowid order (devices are never re-inserted).
  const registrationsOf = db.prepare(`SELECT serial, id AS device_id, contract_id, supplier_id, created_at FROM devices
    WHERE serial IN (SELECT DISTINCT value FROM json_each(?)) ORDER BY serial, rowid`);
  const duplicatedSerials = db.prepare(`SELECT serial FROM devices GROUP BY serial HAVING count(DISTINCT contract_id) > 1 ORDER BY serial`);
  const serialsOfContract = db.prepare('SELECT serial FROM devices WHERE contract_id = ?');
  const assignmentOf = db.prepare('SELECT serial, contract_id, reason, actor, at FROM serial_assignments WHERE serial = ?');
  const assignmentsOf = db.prepare(`SELECT serial, contract_id, reason, actor, at FROM serial_assignments
    WHERE serial IN (SELECT value FROM json_each(?))`);
  const upsertAssignment = db.prepare(`INSERT INTO serial_assignments (serial, contract_id, reason, actor, at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (serial) DO UPDATE SET contract_id = excluded.contract_id, reason = excluded.reason, actor = excluded.actor, at = excluded.at`);

  type AssignmentRow = { serial: string; contract_id: string; reason: string; actor: string; at: number };
  const note = (row: { reason: string; actor: string; at: number }): ReviewNote => ({ by: row.actor, at: toShanghaiIso(row.at), reason: row.reason });

  const registrationsBySerial = (serials: readonly string[]): Map<string, RegistrationRow[]> => {
    const result = new Map<string, RegistrationRow[]>();
    if (serials.length === 0) return result;
    for (const row of registrationsOf.all(JSON.stringify(serials)) as RegistrationRow[]) {
      const list = result.get(row.serial) ?? [];
      list.push(row);
      result.set(row.serial, list);
    }
    for (const [serial, rows] of result) if (new Set(rows.map((r) => r.contract_id)).size < 2) result.delete(serial);
    return result;
  };
  const assignmentsBySerial = (serials: readonly string[]): Map<string, AssignmentRow> =>
    new Map((serials.length ? (assignmentsOf.all(JSON.stringify(serials)) as AssignmentRow[]) : []).map((r) => [r.serial, r]));

  const duplicate = (serial: string): DuplicateSerial | undefined => {
    const rows = registrationsBySerial([serial]).get(serial);
    if (!rows) return undefined;
    const assignment = assignmentOf.get(serial) as AssignmentRow | undefined;
    return {
      serial,
      registrations: rows.map((r) => ({ deviceId: r.device_id, contractId: r.contract_id, supplierId: r.supplier_id, registeredAt: toShanghaiIso(r.created_at) })),
      assignment: assignment ? { contractId: assignment.contract_id, ...note(assignment) } : null,
    };
  };

  return {
    excludeDevice: (deviceId, reason, actor) =>
      db.transaction(() => {
        const why = requireReason(reason);
        const device = deviceById.get(deviceId) as { id: string; contract_id: string } | undefined;
        if (!device) throw notFound('device', deviceId);
        if (exclusionOf.get(deviceId)) deleteExclusion.run(deviceId);
        const at = clock.now();
        insertExclusion.run(deviceId, device.contract_id, why, actor, at);
        audit.append(actor, 'review.device.exclude', device.contract_id, { deviceId, reason: why });
        return { deviceId, contractId: device.contract_id, by: actor, at: toShanghaiIso(at), reason: why };
      })(),

    includeDevice: (deviceId, reason, actor) =>
      db.transaction(() => {
        const why = requireReason(reason);
        const device = deviceById.get(deviceId) as { id: string; contract_id: string } | undefined;
        if (!device) throw notFound('device', deviceId);
        if (!exclusionOf.get(deviceId)) return;
        deleteExclusion.run(deviceId);
        audit.append(actor, 'review.device.include', device.contract_id, { deviceId, reason: why });
      })(),

    exclusionsOf: (contractId) =>
      new Map((exclusionsOfContract.all(contractId) as Array<{ device_id: string; reason: string; actor: string; at: number }>).map((r) => [r.device_id, note(r)])),

    assignSerial: (serial, contractId, reason, actor) =>
      db.transaction(() => {
        const why = requireReason(reason);
        const found = duplicate(serial);
        if (!found) throw notFound('duplicated serial', serial);
        if (!found.registrations.some((r) => r.contractId === contractId)) {
          throw badRequest('GW_ERR_REVIEW_SERIAL_NOT_REGISTERED', `serial ${serial} is not registered under ${contractId}`, [
            { path: 'body.contractId', message: 'must be one of the contracts the serial is registered under' },
          ]);
        }
        upsertAssignment.run(serial, contractId, why, actor, clock.now());
        // Audited under every contract the serial touches, so each one's history shows the decision.
        for (const c of new Set(found.registrations.map((r) => r.contractId))) {
          audit.append(actor, 'review.serial.assign', c, { serial, assignedTo: c === contractId ? 'this-contract' : 'another-contract', reason: why });
        }
        return duplicate(serial)!;
      })(),

    serialHolds(contractId, serials) {
      const holds = new Map<string, SerialHold>();
      const registrations = registrationsBySerial(serials);
      const assignments = assignmentsBySerial([...registrations.keys()]);
      for (const [serial, rows] of registrations) {
        const assigned = assignments.get(serial);
        // The earliest registration holds the serial until a reviewer assigns it (README "Policy").
        const holder = assigned ? assigned.contract_id : rows[0]!.contract_id;
        holds.set(serial, { registrations: new Set(rows.map((r) => r.contract_id)).size, countedHere: holder === contractId, basis: assigned ? 'reviewer' : 'earliest-registration' });
      }
      return holds;
    },

    assignmentsSeenFrom(contractId, serials) {
      const result = new Map<string, ReviewNote & { assignedHere: boolean }>();
      for (const [serial, row] of assignmentsBySerial(serials)) result.set(serial, { ...note(row), assignedHere: row.contract_id === contractId });
      return result;
    },

    duplicate,

    duplicates(contractId) {
      const serials = contractId === undefined
        ? (duplicatedSerials.all() as { serial: string }[]).map((r) => r.serial)
        : (serialsOfContract.all(contractId) as { serial: string }[]).map((r) => r.serial);
      const registrations = registrationsBySerial(serials);
      return [...registrations.keys()].sort().map((serial) => duplicate(serial)!);
    },
  };
}
