/**
 * The registry's one adapter onto the rules engine (src/rules). Every call into the engine
 * goes through here, so a change of the engine's signatures is fixed in this file only. The
 * rest of the registry speaks the `VoucherEngine` interface below, in registry terms
 * (epoch-ms times, city codes, contract ids).
 */
import * as rules from '../rules/index.js';
import { toShanghaiIso } from '../time/shanghai.js';
import type { CityRef, PriorVoucher } from './enterprises.js';
import type { SupplierKind } from './suppliers.js';

export type Decision = 'approved' | 'reduced' | 'rejected';

export interface Reason {
  code: string;
  clause: string;
  /** The engine's classification of the reason (e.g. whether it rejected, reduced or informed). */
  effect?: string;
  message: string;
}

/** What the engine decided for one contract, stored with the contract. */
export interface ContractEvaluation {
  program: number;
  decision: Decision;
  voucherFen: number;
  requiredDevices: number | null;
  reasons: Reason[];
  /** The engine's explanation tree, as it returned it. */
  explanation: unknown;
  enterprise: {
    eligible: boolean;
    city: CityRef | null;
    region: string | null;
    clusterPilot?: boolean;
    ratePercent: number | null;
    rateBasisPoints?: number | null;
    reasons: Reason[];
  };
}

export interface EnterpriseFacts {
  city: CityRef;
  clusterPilot: boolean;
  priorVouchers: PriorVoucher[];
}

export interface ContractFacts {
  id: string;
  catalogId: number;
  contractAmountFen: number;
  appliedAt: number;
  contractSignedAt: number | null;
  serviceProviders: number | null;
  bigDataModels: number | null;
  functionModules: number | null;
}

export interface AllocationCandidate {
  id: string;
  cityCode: string;
  clusterPilot: boolean;
  supplierId: string;
  supplierKind: SupplierKind;
  voucherFen: number;
  submittedAt: number;
}

export interface AllocationQuotas {
  /** null = unlimited; a city without an entry gets the program's default. */
  cities: Record<string, number | null>;
  suppliers: Record<string, number>;
}

/** One contract's place in the allocation, stored with the contract. */
export interface AllocationOutcome {
  /** `rejected` when the engine finds the application can never be admitted (e.g. excluded city). */
  status: 'admitted' | 'waitlisted' | 'rejected';
  /** 1-based position in the engine's processing order (cluster pilots first, then submission time). */
  position: number;
  reasons: Reason[];
  /** Balances before/after as the engine reported them. */
  balances: Record<string, unknown>;
}

export interface VoucherEngine {
  hasProgram(year: number): boolean;
  /** Whether the program's catalog (附件) has this 序号. */
  hasCatalogItem(program: number, catalogId: number): boolean;
  /** Name (`佛山`, `佛山市`) or GB/T 2260 code → the city, or undefined when unknown. */
  resolveCity(input: string): CityRef | undefined;
  /** The program's cities with their default quotas (null = unlimited). */
  cities(program: number): { city: CityRef; defaultQuotaFen: number | null }[];
  /** 37号 §三: the starting quota of a supplier of this kind (latest program). */
  initialSupplierQuotaFen(kind: SupplierKind): number;
  /** Results in the order of `contracts`; the engine applies the enterprise cap in appliedAt order. */
  evaluate(program: number, enterprise: EnterpriseFacts, contracts: ContractFacts[]): ContractEvaluation[];
  allocate(program: number, candidates: AllocationCandidate[], quotas: AllocationQuotas): Map<string, AllocationOutcome>;
}


/** The VoucherEngine backed by src/rules and its built-in program years. */
export function createRulesVoucherEngine(): VoucherEngine {
  const program = (year: number): rules.Program => {
    const found = rules.getProgram(year);
    if (!found) throw new RangeError(`no program year ${year}`);
    return found;
  };
  /** Enterprise-level facts (cities, supplier quotas) come from the latest program year. */
  const latest = (): rules.Program => program(Math.max(...rules.programYears()));

  return {
    hasProgram: (year) => rules.getProgram(year) !== undefined,

    hasCatalogItem: (year, catalogId) => {
      const found = rules.getProgram(year);
      return found !== undefined && rules.getCatalogItem(found, catalogId) !== undefined;
    },

    resolveCity(input) {
      const city = rules.resolveCity(latest(), input);
      return city ? { name: city.name, code: city.code } : undefined;
    },

    cities(year) {
      const p = program(year);
      return p.cities.map((city) => ({
        city: { name: city.name, code: city.code },
        defaultQuotaFen: p.quotas.cityFen[city.code]?.value ?? p.quotas.cityDefaultFen.value,
      }));
    },

    initialSupplierQuotaFen: (kind) => latest().quotas.supplierByKind[kind].value,

    evaluate(year, enterprise, contracts) {
      if (contracts.length === 0) return [];
      const evaluation = rules.evaluate(
        program(year),
        { city: enterprise.city.code, clusterPilot: enterprise.clusterPilot, priorVouchers: enterprise.priorVouchers },
        contracts.map((c) => ({
          catalogId: c.catalogId,
          contractAmountFen: c.contractAmountFen,
          appliedAt: toShanghaiIso(c.appliedAt),
          ...(c.serviceProviders !== null ? { serviceProviders: c.serviceProviders } : {}),
          ...(c.bigDataModels !== null ? { bigDataModels: c.bigDataModels } : {}),
          ...(c.functionModules !== null ? { functionModules: c.functionModules } : {}),
        })),
      );
      return evaluation.applications.map((result) => ({
        program: evaluation.program,
        decision: result.decision,
        voucherFen: result.voucherFen,
        requiredDevices: result.requiredDevices,
        reasons: result.reasons,
        explanation: result.explanation,
        enterprise: evaluation.enterprise,
      }));
    },

    allocate(year, candidates, quotas) {
      const outcomes = new Map<string, AllocationOutcome>();
      if (candidates.length === 0) return outcomes;
      const allocation = rules.allocate(
        program(year),
        candidates.map((c) => ({
          id: c.id,
          enterpriseCity: c.cityCode,
          clusterPilot: c.clusterPilot,
          supplierId: c.supplierId,
          supplierKind: c.supplierKind,
          voucherFen: c.voucherFen,
          submittedAt: toShanghaiIso(c.submittedAt),
        })),
        { cities: quotas.cities, suppliers: quotas.suppliers },
      );
      for (const entry of allocation.applications) {
        outcomes.set(entry.id, {
          status: entry.status,
          position: entry.order,
          reasons: entry.reasons,
          balances: {
            cityBalanceBeforeFen: entry.cityBalanceBeforeFen,
            cityBalanceAfterFen: entry.cityBalanceAfterFen,
            supplierBalanceBeforeFen: entry.supplierBalanceBeforeFen,
            supplierBalanceAfterFen: entry.supplierBalanceAfterFen,
          },
        });
      }
      return outcomes;
    },
  };
}
