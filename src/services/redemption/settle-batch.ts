import type { Principal } from '../../api/route.js';
import { toCsv } from '../../api/csv.js';
import type { SettlementBatch, SettlementLine } from '../../registry/index.js';
import type { RedemptionDeps } from './deps.js';
import { nothingToSettle } from './errors.js';

/** Fen as yuan text for the finance office's columns: integer arithmetic, never a float. */
const yuanText = (fen: number): string => `${Math.trunc(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;

/** The CSV handed to the finance office: one line per application in settlement order, and the total. */
export function settlementCsv(batchId: number, lines: readonly SettlementLine[]): string {
  const header = ['batchId', 'position', 'applicationId', 'contractId', 'enterprise', 'creditCode', 'supplier', 'catalogId', 'clusterPilot', 'submittedAt', 'approvedAt', 'payableFen', 'payableYuan'];
  const rows = lines.map((l, i) => [batchId, i + 1, l.applicationId, l.contractId, l.enterprise.name, l.enterprise.creditCode, l.supplier.name, l.catalogId, l.clusterPilot, l.submittedAt, l.approvedAt, l.payableFen, yuanText(l.payableFen)]);
  const total = lines.reduce((sum, l) => sum + l.payableFen, 0);
  return toCsv(header, [...rows, ['#total', lines.length, '', '', '', '', '', '', '', '', '', total, yuanText(total)]]);
}

/**
 * Settles approved applications in the notice's order — cluster pilots first, then application
 * time, then id (37号 §一 优先…结算) — up to an optional budget in fen; the batch, its CSV and
 * the audit entries are written in one transaction (SPEC rule 13).
 */
export async function settleBatch(deps: RedemptionDeps, principal: Principal, input: { budgetFen?: number | undefined }): Promise<SettlementBatch> {
  const budget = input.budgetFen ?? null;
  const batch = await deps.registry.settlements.settle(budget, settlementCsv, principal.keyId);
  if (!batch) throw nothingToSettle(budget);
  return batch;
}
