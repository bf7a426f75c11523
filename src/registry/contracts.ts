import { badRequest } from '../errors.js';
import { toShanghaiIso } from '../time/shanghai.js';
import { isoToMs, type Actor, type RegistryContext } from './context.js';
import type { CityRef, PriorVoucher } from './enterprises.js';
import { newId } from './ids.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './pagination.js';
import type { SupplierKind } from './suppliers.js';
import type { AllocationOutcome, ContractEvaluation, Decision } from './vouchers.js';

export type ContractStatus = 'admitted' | 'waitlisted' | 'rejected';

/** A contract is one voucher application: enterprise + supplier + catalog item + amount + time. */
export interface Contract {
  id: string;
  enterpriseId: string;
  supplierId: string;
  program: number;
  catalogId: number;
  contractAmountFen: number;
  appliedAt: string;
  contractSignedAt: string | null;
  serviceProviders: number | null;
  bigDataModels: number | null;
  functionModules: number | null;
  /** From the rules engine over all of the enterprise's contracts in the program (说明3 cap, 说明4 groups). */
  voucherFen: number;
  /** 说明2: ceil(voucher ÷ per-device subsidy) for #5, #24, #25; null otherwise. */
  requiredDevices: number | null;
  decision: Decision;
  /** From the engine's allocation against city and supplier quotas (37号 §一, §三); rejected when the decision is. */
  status: ContractStatus;
  evaluation: ContractEvaluation;
  allocation: AllocationOutcome | null;
  createdAt: string;
  updatedAt: string;
}

export interface ContractInput {
  enterpriseId: string;
  supplierId: string;
  program: number;
  catalogId: number;
  contractAmountFen: number;
  /** ISO-8601 with offset. */
  appliedAt: string;
  contractSignedAt?: string;
  serviceProviders?: number;
  bigDataModels?: number;
  functionModules?: number;
}

export interface ContractFilter {
  enterpriseId?: string;
  supplierId?: string;
  program?: number;
  status?: ContractStatus;
}

export interface Contracts {
  /** Creates the contract, re-evaluates all the enterprise's contracts of the program, re-runs allocation. */
  create(input: ContractInput, actor: Actor): Contract;
  get(id: string): Contract | undefined;
  /** One page of the contracts matching the filter (API lists). */
  page(filter?: ContractFilter, page?: PageRequest): Page<Contract>;
  /** Every contract matching the filter, unpaginated, in creation order (verifier, reports). */
  list(filter?: ContractFilter): Contract[];
  /** Re-runs the engine's allocation over the program's non-rejected contracts and stores each status. */
  reallocate(program: number, actor: Actor): void;
}

interface ContractRow {
  rowid: number;
  id: string;
  enterprise_id: string;
  supplier_id: string;
  program: number;
  catalog_id: number;
  contract_amount_fen: number;
  applied_at: number;
  contract_signed_at: number | null;
  service_providers: number | null;
  big_data_models: number | null;
  function_modules: number | null;
  voucher_fen: number;
  required_devices: number | null;
  decision: Decision;
  status: ContractStatus;
  evaluation: string;
  allocation: string | null;
  created_at: number;
  updated_at: number;
}

function fromRow(row: ContractRow): Contract {
  return {
    id: row.id,
    enterpriseId: row.enterprise_id,
    supplierId: row.supplier_id,
    program: row.program,
    catalogId: row.catalog_id,
    contractAmountFen: row.contract_amount_fen,
    appliedAt: toShanghaiIso(row.applied_at),
    contractSignedAt: row.contract_signed_at === null ? null : toShanghaiIso(row.contract_signed_at),
    serviceProviders: row.service_providers,
    bigDataModels: row.big_data_models,
    functionModules: row.function_modules,
    voucherFen: row.voucher_fen,
    requiredDevices: row.required_devices,
    decision: row.decision,
    status: row.status,
    evaluation: JSON.parse(row.evaluation) as ContractEvaluation,
    allocation: row.allocation === null ? null : (JSON.parse(row.allocation) as AllocationOutcome),
    createdAt: toShanghaiIso(row.created_at),
    updatedAt: toShanghaiIso(row.updated_at),
  };
}

const FILTER = `(@enterpriseId IS NULL OR enterprise_id = @enterpriseId)
  AND (@supplierId IS NULL OR supplier_id = @supplierId)
  AND (@program IS NULL OR program = @program)
  AND (@status IS NULL OR status = @status)`;

function filterParams(filter: ContractFilter): Record<string, string | number | null> {
  return {
    enterpriseId: filter.enterpriseId ?? null,
    supplierId: filter.supplierId ?? null,
    program: filter.program ?? null,
    status: filter.status ?? null,
  };
}

export function createContracts(ctx: RegistryContext): Contracts {
  const { db, clock, audit, engine, log } = ctx;
  const insert = db.prepare(`INSERT INTO contracts
    (id, enterprise_id, supplier_id, program, catalog_id, contract_amount_fen, applied_at, contract_signed_at,
     service_providers, big_data_models, function_modules, created_at, updated_at)
    VALUES (@id, @enterpriseId, @supplierId, @program, @catalogId, @contractAmountFen, @appliedAt, @contractSignedAt,
     @serviceProviders, @bigDataModels, @functionModules, @now, @now)`);
  const byId = db.prepare('SELECT rowid, * FROM contracts WHERE id = ?');
  const page = db.prepare(`SELECT rowid, * FROM contracts WHERE rowid > @after AND ${FILTER} ORDER BY rowid LIMIT @limit`);
  const allMatching = db.prepare(`SELECT rowid, * FROM contracts WHERE ${FILTER} ORDER BY rowid`);
  const enterpriseById = db.prepare(
    'SELECT id, city_code, city_name, cluster_pilot, prior_vouchers FROM enterprises WHERE id = ?',
  );
  const supplierExists = db.prepare('SELECT 1 FROM suppliers WHERE id = ?');
  // The engine applies the enterprise cap in application order (说明3); rowid breaks ties stably.
  const ofEnterprise = db.prepare(
    'SELECT rowid, * FROM contracts WHERE enterprise_id = ? AND program = ? ORDER BY applied_at, rowid',
  );
  const storeEvaluation = db.prepare(`UPDATE contracts SET voucher_fen = @voucherFen, required_devices = @requiredDevices,
    decision = @decision, evaluation = @evaluation, updated_at = @now WHERE id = @id`);
  const ofProgram = db.prepare(`
    SELECT c.id, c.supplier_id, c.voucher_fen, c.applied_at, c.decision, c.status, c.allocation,
           e.city_code, e.cluster_pilot, s.kind AS supplier_kind, s.quota_fen AS supplier_quota_fen
    FROM contracts c JOIN enterprises e ON e.id = c.enterprise_id JOIN suppliers s ON s.id = c.supplier_id
    WHERE c.program = ? ORDER BY c.applied_at, c.rowid`);
  const cityQuotas = db.prepare('SELECT city_code, quota_fen FROM program_city_quotas WHERE program = ?');
  const storeAllocation = db.prepare(
    'UPDATE contracts SET status = @status, allocation = @allocation, updated_at = @now WHERE id = @id',
  );

  const get = (id: string): Contract | undefined => {
    const row = byId.get(id) as ContractRow | undefined;
    return row && fromRow(row);
  };

  /** Re-evaluates every contract of the enterprise in the program; audits the ones that changed. */
  const reevaluate = (enterpriseId: string, program: number, actor: Actor, createdId: string): void => {
    const enterprise = enterpriseById.get(enterpriseId) as
      | { id: string; city_code: string; city_name: string; cluster_pilot: number; prior_vouchers: string }
      | undefined;
    if (!enterprise) return;
    const rows = ofEnterprise.all(enterpriseId, program) as ContractRow[];
    const city: CityRef = { code: enterprise.city_code, name: enterprise.city_name };
    const results = engine.evaluate(
      program,
      { city, clusterPilot: enterprise.cluster_pilot === 1, priorVouchers: JSON.parse(enterprise.prior_vouchers) as PriorVoucher[] },
      rows.map((row) => ({
        id: row.id,
        catalogId: row.catalog_id,
        contractAmountFen: row.contract_amount_fen,
        appliedAt: row.applied_at,
        contractSignedAt: row.contract_signed_at,
        serviceProviders: row.service_providers,
        bigDataModels: row.big_data_models,
        functionModules: row.function_modules,
      })),
    );
    const now = clock.now();
    rows.forEach((row, i) => {
      const result = results[i]!;
      storeEvaluation.run({
        id: row.id,
        voucherFen: result.voucherFen,
        requiredDevices: result.requiredDevices,
        decision: result.decision,
        evaluation: JSON.stringify(result),
        now,
      });
      const changed = row.voucher_fen !== result.voucherFen || row.decision !== result.decision;
      if (row.id !== createdId && changed) {
        audit.append(actor, 'contract.reevaluate', row.id, {
          cause: createdId,
          from: { decision: row.decision, voucherFen: row.voucher_fen },
          to: { decision: result.decision, voucherFen: result.voucherFen },
        });
      }
    });
  };

  const reallocate = (program: number, actor: Actor, createdId?: string): void => {
    const rows = ofProgram.all(program) as {
      id: string;
      supplier_id: string;
      voucher_fen: number;
      applied_at: number;
      decision: Decision;
      status: ContractStatus;
      allocation: string | null;
      city_code: string;
      cluster_pilot: number;
      supplier_kind: SupplierKind;
      supplier_quota_fen: number;
    }[];
    const candidates = rows.filter((row) => row.decision !== 'rejected');
    const suppliers: Record<string, number> = {};
    for (const row of candidates) suppliers[row.supplier_id] = row.supplier_quota_fen;
    const cities: Record<string, number | null> = {};
    for (const q of cityQuotas.all(program) as { city_code: string; quota_fen: number | null }[]) cities[q.city_code] = q.quota_fen;

    const outcomes = engine.allocate(
      program,
      candidates.map((row) => ({
        id: row.id,
        cityCode: row.city_code,
        clusterPilot: row.cluster_pilot === 1,
        supplierId: row.supplier_id,
        supplierKind: row.supplier_kind,
        voucherFen: row.voucher_fen,
        submittedAt: row.applied_at,
      })),
      { cities, suppliers },
    );
    const now = clock.now();
    for (const row of rows) {
      const outcome = row.decision === 'rejected' ? undefined : outcomes.get(row.id);
      if (row.decision !== 'rejected' && !outcome) {
        log.error({ contractId: row.id, program }, 'allocation returned no result for a contract; left waitlisted');
      }
      const status: ContractStatus = row.decision === 'rejected' ? 'rejected' : (outcome?.status ?? 'waitlisted');
      const allocation = outcome ? JSON.stringify(outcome) : null;
      if (status === row.status && allocation === row.allocation) continue;
      storeAllocation.run({ id: row.id, status, allocation, now });
      if (row.id !== createdId && status !== row.status) {
        audit.append(actor, 'contract.allocate', row.id, { from: row.status, to: status, ...(createdId ? { cause: createdId } : {}) });
      }
    }
  };

  return {
    create: (input, actor) => {
      if (!engine.hasProgram(input.program)) {
        throw badRequest('GW_ERR_REGISTRY_UNKNOWN_PROGRAM', `no program year ${input.program}`, [
          { path: 'body.program', message: `unknown program year ${input.program}` },
        ]);
      }
      if (!engine.hasCatalogItem(input.program, input.catalogId)) {
        throw badRequest('GW_ERR_REGISTRY_UNKNOWN_CATALOG_ITEM', `no catalog item ${input.catalogId} in ${input.program}`, [
          { path: 'body.catalogId', message: `the ${input.program} catalog has no item ${input.catalogId}` },
        ]);
      }
      return db.transaction(() => {
        const errors = [];
        if (!enterpriseById.get(input.enterpriseId)) {
          errors.push({ path: 'body.enterpriseId', message: `no enterprise ${input.enterpriseId}` });
        }
        if (!supplierExists.get(input.supplierId)) {
          errors.push({ path: 'body.supplierId', message: `no supplier ${input.supplierId}` });
        }
        if (errors.length > 0) throw badRequest('GW_ERR_REGISTRY_UNKNOWN_REFERENCE', 'contract refers to unknown records', errors);

        const id = newId('ctr');
        insert.run({
          id,
          enterpriseId: input.enterpriseId,
          supplierId: input.supplierId,
          program: input.program,
          catalogId: input.catalogId,
          contractAmountFen: input.contractAmountFen,
          appliedAt: isoToMs(input.appliedAt),
          contractSignedAt: input.contractSignedAt === undefined ? null : isoToMs(input.contractSignedAt),
          serviceProviders: input.serviceProviders ?? null,
          bigDataModels: input.bigDataModels ?? null,
          functionModules: input.functionModules ?? null,
          now: clock.now(),
        });
        reevaluate(input.enterpriseId, input.program, actor, id);
        reallocate(input.program, actor, id);
        const created = get(id)!;
        audit.append(actor, 'contract.create', id, {
          ...input,
          voucherFen: created.voucherFen,
          requiredDevices: created.requiredDevices,
          decision: created.decision,
          status: created.status,
        });
        return created;
      })();
    },
    get,
    page(filter = {}, request) {
      const limit = pageLimit(request);
      const rows = page.all({ ...filterParams(filter), after: decodeCursor(request?.cursor), limit: limit + 1 }) as ContractRow[];
      return toPage(rows, limit, fromRow);
    },
    list(filter = {}) {
      return (allMatching.all(filterParams(filter)) as ContractRow[]).map(fromRow);
    },
    reallocate: (program, actor) => db.transaction(() => reallocate(program, actor))(),
  };
}
