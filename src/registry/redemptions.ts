import type { Migration } from '../db/sqlite.js';
import { toShanghaiIso } from '../time/shanghai.js';
import type { Actor, RegistryContext } from './context.js';
import { isoToMs } from './context.js';
import { JWS_TYPES } from '../trust/index.js';

/** A recorded redemption (兑现) decision: the rules outcome, the verification digest and who asked. */
export interface RedemptionRecord {
  id: number;
  contractId: string;
  /** The redemption time the decision was made for. */
  at: string;
  decidedAt: string;
  decision: 'approved' | 'rejected';
  voucherFen: number;
  requiredDevices: number | null;
  activeDevices: number | null;
  reportDigest: string;
  actor: string;
  reasons: unknown[];
  /**
   * The decision as a compact JWS (src/trust, typ gateway-decision+json): payload = this record
   * without `signed`, protected header `treeHead` = the audit log's head including this
   * decision's own entry. Absent when the registry has no signer.
   */
  signed?: string;
}

export interface RedemptionInput {
  contractId: string;
  at: string;
  decision: 'approved' | 'rejected';
  voucherFen: number;
  requiredDevices: number | null;
  activeDevices: number | null;
  reportDigest: string;
  reasons: unknown[];
}

export interface Redemptions {
  /** Stores the decision and its audit entry in one transaction. */
  record(input: RedemptionInput, actor: Actor): RedemptionRecord;
  forContract(contractId: string): RedemptionRecord[];
}

export const redemptionsMigration: Migration = {
  version: 2,
  description: 'redemption decisions',
  up: `
    CREATE TABLE redemptions (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      contract_id TEXT NOT NULL REFERENCES contracts (id),
      at INTEGER NOT NULL,
      decided_at INTEGER NOT NULL,
      decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
      voucher_fen INTEGER NOT NULL,
      required_devices INTEGER,
      active_devices INTEGER,
      report_digest TEXT NOT NULL,
      actor TEXT NOT NULL,
      reasons TEXT NOT NULL
    );
    CREATE INDEX redemptions_contract ON redemptions (contract_id, id);
  `,
};

interface Row {
  id: number;
  contract_id: string;
  at: number;
  decided_at: number;
  decision: 'approved' | 'rejected';
  voucher_fen: number;
  required_devices: number | null;
  active_devices: number | null;
  report_digest: string;
  actor: string;
  reasons: string;
}

export function createRedemptions(ctx: RegistryContext): Redemptions {
  const { db, audit, clock, signer, signedRecords } = ctx;
  const insert = db.prepare(`INSERT INTO redemptions
    (contract_id, at, decided_at, decision, voucher_fen, required_devices, active_devices, report_digest, actor, reasons)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const byContract = db.prepare('SELECT * FROM redemptions WHERE contract_id = ? ORDER BY id');
  const byId = db.prepare('SELECT * FROM redemptions WHERE id = ?');
  const withSigned = (record: RedemptionRecord): RedemptionRecord => {
    const signed = signedRecords.latest('redemption', String(record.id));
    return signed ? { ...record, signed } : record;
  };
  const fromRow = (r: Row): RedemptionRecord => ({
    id: r.id,
    contractId: r.contract_id,
    at: toShanghaiIso(r.at),
    decidedAt: toShanghaiIso(r.decided_at),
    decision: r.decision,
    voucherFen: r.voucher_fen,
    requiredDevices: r.required_devices,
    activeDevices: r.active_devices,
    reportDigest: r.report_digest,
    actor: r.actor,
    reasons: JSON.parse(r.reasons) as unknown[],
  });

  return {
    record: db.transaction((input: RedemptionInput, actor: Actor): RedemptionRecord => {
      const { lastInsertRowid } = insert.run(
        input.contractId,
        isoToMs(input.at),
        clock.now(),
        input.decision,
        input.voucherFen,
        input.requiredDevices,
        input.activeDevices,
        input.reportDigest,
        actor,
        JSON.stringify(input.reasons),
      );
      audit.append(actor, 'redemption.decide', input.contractId, {
        redemptionId: Number(lastInsertRowid),
        at: input.at,
        decision: input.decision,
        voucherFen: input.voucherFen,
        requiredDevices: input.requiredDevices,
        activeDevices: input.activeDevices,
        reportDigest: input.reportDigest,
      });
      const record = fromRow(byId.get(lastInsertRowid) as Row);
      if (!signer) return record;
      const signed = signer.signJson(record, JWS_TYPES.decision, { treeHead: audit.head() });
      signedRecords.add('redemption', String(record.id), signed);
      return { ...record, signed };
    }),
    forContract: (contractId) => (byContract.all(contractId) as Row[]).map(fromRow).map(withSigned),
  };
}
