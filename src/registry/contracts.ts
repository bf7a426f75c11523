import { sql } from 'kysely';
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
  create(input: ContractInput, actor: Actor): Promise<Contract>;
  get(id: string): Promise<Contract | undefined>;
  /** One page of the contracts matching the filter (API lists). */
  page(filter?: ContractFilter, page?: PageRequest): Promise<Page<Contract>>;
  /** Every contract matching the filter, unpaginated, in creation order (verifier, reports). */
  list(filter?: ContractFilter): Promise<Contract[]>;
  /** Re-runs the engine's allocation over the program's non-rejected contracts and stores each status. */
  reallocate(program: number, actor: Actor): Promise<void>;
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

type ProgramRow = {
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
};

type EnterpriseRow = { id: string; city_code: string; city_name: string; cluster_pilot: number; prior_vouchers: string };

export function createContracts(ctx: RegistryContext): Contracts {
  const { sql: db, clock, audit, engine, log } = ctx;

  /** The contracts matching the filter, in creation order (rowid), optionally after a cursor. */
  function matching(filter: ContractFilter) {
    let query = db.q().selectFrom('contracts').select('rowid').selectAll();
    if (filter.enterpriseId !== undefined) query = query.where('enterprise_id', '=', filter.enterpriseId);
    if (filter.supplierId !== undefined) query = query.where('supplier_id', '=', filter.supplierId);
    if (filter.program !== undefined) query = query.where('program', '=', filter.program);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    return query.orderBy('rowid');
  }

  const enterpriseById = (id: string) =>
    db.one<EnterpriseRow>(sql`SELECT id, city_code, city_name, cluster_pilot, prior_vouchers FROM enterprises WHERE id = ${id}`);

  const get = async (id: string): Promise<Contract | undefined> => {
    const row = await db.one<ContractRow>(sql`SELECT rowid, * FROM contracts WHERE id = ${id}`);
    return row && fromRow(row);
  };

  /** Re-evaluates every contract of the enterprise in the program; audits the ones that changed. */
  const reevaluate = async (enterpriseId: string, program: number, actor: Actor, createdId: string): Promise<void> => {
    const enterprise = await enterpriseById(enterpriseId);
    if (!enterprise) return;
    // The engine applies the enterprise cap in application order (说明3); rowid breaks ties stably.
    const rows = await db.all<ContractRow>(
      sql`SELECT rowid, * FROM contracts WHERE enterprise_id = ${enterpriseId} AND program = ${program} ORDER BY applied_at, rowid`,
    );
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
    for (const [i, row] of rows.entries()) {
      const result = results[i]!;
      const evaluation = JSON.stringify(result);
      // Only what the evaluation changed is written: an enterprise's n-th contract must not rewrite the n − 1 before it.
      if (evaluation === row.evaluation && row.voucher_fen === result.voucherFen && row.required_devices === result.requiredDevices && row.decision === result.decision) continue;
      await db.run(sql`UPDATE contracts SET voucher_fen = ${result.voucherFen}, required_devices = ${result.requiredDevices},
        decision = ${result.decision}, evaluation = ${evaluation}, updated_at = ${now} WHERE id = ${row.id}`);
      const changed = row.voucher_fen !== result.voucherFen || row.decision !== result.decision;
      if (row.id !== createdId && changed) {
        await audit.append(actor, 'contract.reevaluate', row.id, {
          cause: createdId,
          from: { decision: row.decision, voucherFen: row.voucher_fen },
          to: { decision: result.decision, voucherFen: result.voucherFen },
        });
      }
    }
  };

  const reallocate = async (program: number, actor: Actor, createdId?: string): Promise<void> => {
    const rows = await db.all<ProgramRow>(sql`
      SELECT c.id, c.supplier_id, c.voucher_fen, c.applied_at, c.decision, c.status, c.allocation,
             e.city_code, e.cluster_pilot, s.kind AS supplier_kind, s.quota_fen AS supplier_quota_fen
      FROM contracts c JOIN enterprises e ON e.id = c.enterprise_id JOIN suppliers s ON s.id = c.supplier_id
      WHERE c.program = ${program} ORDER BY c.applied_at, c.rowid`);
    const candidates = rows.filter((row) => row.decision !== 'rejected');
    const suppliers: Record<string, number> = {};
    for (const row of candidates) suppliers[row.supplier_id] = row.supplier_quota_fen;
    const cities: Record<string, number | null> = {};
    const quotas = await db.all<{ city_code: string; quota_fen: number | null }>(
      sql`SELECT city_code, quota_fen FROM program_city_quotas WHERE program = ${program}`,
    );
    for (const q of quotas) cities[q.city_code] = q.quota_fen;

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
      await db.run(sql`UPDATE contracts SET status = ${status}, allocation = ${allocation}, updated_at = ${now} WHERE id = ${row.id}`);
      if (row.id !== createdId && status !== row.status) {
        await audit.append(actor, 'contract.allocate', row.id, { from: row.status, to: status, ...(createdId ? { cause: createdId } : {}) });
      }
    }
  };

  return {
    async create(input, actor) {
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
      return db.transaction(async () => {
        const errors = [];
        if (!(await enterpriseById(input.enterpriseId))) {
          errors.push({ path: 'body.enterpriseId', message: `no enterprise ${input.enterpriseId}` });
        }
        if (!(await db.one(sql`SELECT 1 AS found FROM suppliers WHERE id = ${input.supplierId}`))) {
          errors.push({ path: 'body.supplierId', message: `no supplier ${input.supplierId}` });
        }
        if (errors.length > 0) throw badRequest('GW_ERR_REGISTRY_UNKNOWN_REFERENCE', 'contract refers to unknown records', errors);

        const id = newId('ctr');
        const now = clock.now();
        await db.run(sql`INSERT INTO contracts
          (id, enterprise_id, supplier_id, program, catalog_id, contract_amount_fen, applied_at, contract_signed_at,
           service_providers, big_data_models, function_modules, created_at, updated_at)
          VALUES (${id}, ${input.enterpriseId}, ${input.supplierId}, ${input.program}, ${input.catalogId}, ${input.contractAmountFen},
           ${isoToMs(input.appliedAt)}, ${input.contractSignedAt === undefined ? null : isoToMs(input.contractSignedAt)},
           ${input.serviceProviders ?? null}, ${input.bigDataModels ?? null}, ${input.functionModules ?? null}, ${now}, ${now})`);
        await reevaluate(input.enterpriseId, input.program, actor, id);
        await reallocate(input.program, actor, id);
        const created = (await get(id))!;
        await audit.append(actor, 'contract.create', id, {
          ...input,
          voucherFen: created.voucherFen,
          requiredDevices: created.requiredDevices,
          decision: created.decision,
          status: created.status,
        });
        return created;
      });
    },
    get,
    async page(filter = {}, request) {
      const limit = pageLimit(request);
      const rows = (await matching(filter).where('rowid', '>', decodeCursor(request?.cursor)).limit(limit + 1).execute()) as unknown as ContractRow[];
      return toPage(rows, limit, fromRow);
    },
    async list(filter = {}) {
      return ((await matching(filter).execute()) as unknown as ContractRow[]).map(fromRow);
    },
    reallocate: (program, actor) => db.transaction(() => reallocate(program, actor)),
  };
}
